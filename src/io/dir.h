/* Internal: one folder lister for the data-set folder loader, the inpaint
 * command's inputs and the trainer's checkpoint pruning. */
#ifndef CLGAN_IO_DIR_H
#define CLGAN_IO_DIR_H

#include "clgan/core.h"

typedef enum { CLGAN_ENTRY_FILE, CLGAN_ENTRY_DIR, CLGAN_ENTRY_OTHER, CLGAN_ENTRY_UNREADABLE } clgan_entry_kind;

typedef struct {
    char *name; /* as in the folder */
    char *path; /* dir/name */
    clgan_entry_kind kind;
    unsigned int mode; /* st_mode (0 when UNREADABLE: stat failed, e.g. a dangling link) */
} clgan_dir_entry;

typedef struct {
    clgan_dir_entry *items;
    size_t n;
} clgan_dir_entries;

/* The entries of dir, sorted by name (strcmp), names beginning with '.'
 * skipped, each stat'ed (links followed). A folder that cannot be opened is
 * CLGAN_ERR_NOT_FOUND (it does not exist) or CLGAN_ERR_IO, naming it. */
clgan_status clgan_dir_list(const char *dir, clgan_dir_entries *out);
void clgan_dir_entries_free(clgan_dir_entries *e);
/* Whether name ends in ".png", any case, with something before it. */
bool clgan_is_png_name(const char *name);

#endif
