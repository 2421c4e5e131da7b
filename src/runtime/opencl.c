/* The OpenCL backend: platform/device enumeration through the ICD loader,
 * context and queue, buffers. Programs are in program.c. */
#include "runtime/device_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void get_platform_str(cl_platform_id p, cl_platform_info what, char *out, size_t cap) {
    out[0] = 0;
    if (clGetPlatformInfo(p, what, cap, out, NULL) != CL_SUCCESS) snprintf(out, cap, "?");
    out[cap - 1] = 0;
}

static void get_device_str(cl_device_id d, cl_device_info what, char *out, size_t cap) {
    out[0] = 0;
    if (clGetDeviceInfo(d, what, cap, out, NULL) != CL_SUCCESS) snprintf(out, cap, "?");
    out[cap - 1] = 0;
}

static const char *type_name(cl_device_type t) {
    if (t & CL_DEVICE_TYPE_GPU) return "GPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return "ACCELERATOR";
    if (t & CL_DEVICE_TYPE_CPU) return "CPU";
    return "CUSTOM";
}

static void fill_info(cl_platform_id p, cl_device_id dev, int pi, int di, clgan_device_info *o) {
    memset(o, 0, sizeof *o);
    o->backend = CLGAN_BACKEND_OPENCL;
    o->platform_index = pi;
    o->device_index = di;
    snprintf(o->id, sizeof o->id, "%d:%d", pi, di);
    cl_device_type t = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof t, &t, NULL) != CL_SUCCESS) t = 0; /* type_name: "?" */
    snprintf(o->type, sizeof o->type, "%s", type_name(t));
    get_device_str(dev, CL_DEVICE_NAME, o->name, sizeof o->name);
    get_device_str(dev, CL_DEVICE_VENDOR, o->vendor, sizeof o->vendor);
    get_device_str(dev, CL_DEVICE_VERSION, o->device_version, sizeof o->device_version);
    get_device_str(dev, CL_DRIVER_VERSION, o->driver_version, sizeof o->driver_version);
    get_device_str(dev, CL_DEVICE_OPENCL_C_VERSION, o->c_version, sizeof o->c_version);
    get_platform_str(p, CL_PLATFORM_NAME, o->platform_name, sizeof o->platform_name);
    get_platform_str(p, CL_PLATFORM_VERSION, o->platform_version, sizeof o->platform_version);
    cl_ulong u = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof u, &u, NULL) == CL_SUCCESS) o->global_mem = u;
    if (clGetDeviceInfo(dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof u, &u, NULL) == CL_SUCCESS) o->local_mem = u;
    if (clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof u, &u, NULL) == CL_SUCCESS) o->max_alloc = u;
    cl_uint cu = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL) == CL_SUCCESS)
        o->compute_units = cu;
    size_t wg = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL) == CL_SUCCESS)
        o->max_work_group = wg;
    cl_device_fp_config fp = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp, &fp, NULL) == CL_SUCCESS)
        o->fp64 = fp != 0;
    cl_device_exec_capabilities ex = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_EXECUTION_CAPABILITIES, sizeof ex, &ex, NULL) == CL_SUCCESS)
        o->native_kernels = (ex & CL_EXEC_NATIVE_KERNEL) != 0;
}

/* Platforms and devices, in ICD order; an index pair is stable for a given
 * set of installed drivers. */
static clgan_status platforms(cl_platform_id **out, cl_uint *n, char *note, size_t note_cap) {
    *out = NULL;
    *n = 0;
    cl_int err = clGetPlatformIDs(0, NULL, n);
    if (err != CL_SUCCESS || *n == 0) {
        snprintf(note, note_cap,
                 "no OpenCL platform found (clGetPlatformIDs: %s): no ICD is registered in "
                 "/etc/OpenCL/vendors, or its driver failed to load; install one (e.g. the Debian "
                 "package pocl-opencl-icd for the CPU) or set OCL_ICD_VENDORS",
                 clgan_cl_error_name(err));
        *n = 0;
        return CLGAN_OK;
    }
    *out = calloc(*n, sizeof **out);
    if (!*out) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory listing platforms");
    err = clGetPlatformIDs(*n, *out, NULL);
    if (err != CL_SUCCESS) {
        snprintf(note, note_cap, "clGetPlatformIDs failed: %s", clgan_cl_error_name(err));
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return CLGAN_OK;
}

clgan_status clgan_opencl_enumerate(clgan_device_list *l) {
    cl_platform_id *plats = NULL;
    cl_uint np = 0;
    clgan_status st = platforms(&plats, &np, l->opencl_note, sizeof l->opencl_note);
    if (st != CLGAN_OK) return st;
    for (cl_uint pi = 0; pi < np; pi++) {
        cl_uint nd = 0;
        cl_int err = clGetDeviceIDs(plats[pi], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
        if (err != CL_SUCCESS || nd == 0) {
            char pname[128];
            get_platform_str(plats[pi], CL_PLATFORM_NAME, pname, sizeof pname);
            size_t len = strlen(l->opencl_note);
            snprintf(l->opencl_note + len, sizeof l->opencl_note - len, "%splatform %u (%s) has no devices (%s)",
                     len ? "; " : "", pi, pname, clgan_cl_error_name(err));
            continue;
        }
        cl_device_id *devs = calloc(nd, sizeof *devs);
        clgan_device_info *grown = realloc(l->items, (size_t)(l->count + (int)nd) * sizeof *grown);
        if (!devs || !grown) {
            free(devs);
            if (grown) l->items = grown;
            free(plats);
            clgan_device_list_free(l);
            return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory listing devices");
        }
        l->items = grown;
        if (clGetDeviceIDs(plats[pi], CL_DEVICE_TYPE_ALL, nd, devs, NULL) == CL_SUCCESS)
            for (cl_uint di = 0; di < nd; di++) fill_info(plats[pi], devs[di], (int)pi, (int)di, &l->items[l->count++]);
        free(devs);
    }
    free(plats);
    return CLGAN_OK;
}

/* Finds the cl_platform_id/cl_device_id for info's P:D again. */
static clgan_status locate(const clgan_device_info *info, cl_platform_id *pp, cl_device_id *dd) {
    clgan_status st = CLGAN_OK;
    cl_uint np = 0, nd = 0;
    cl_platform_id *plats = NULL;
    cl_device_id *devs = NULL;
    CL_CHECK(clGetPlatformIDs(0, NULL, &np));
    if ((cl_uint)info->platform_index >= np) {
        st = CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "platform %d is gone", info->platform_index);
        goto fail;
    }
    plats = calloc(np, sizeof *plats);
    if (!plats) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
        goto fail;
    }
    CL_CHECK(clGetPlatformIDs(np, plats, NULL));
    CL_CHECK(clGetDeviceIDs(plats[info->platform_index], CL_DEVICE_TYPE_ALL, 0, NULL, &nd));
    if ((cl_uint)info->device_index >= nd) {
        st = CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "device %s is gone", info->id);
        goto fail;
    }
    devs = calloc(nd, sizeof *devs);
    if (!devs) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
        goto fail;
    }
    CL_CHECK(clGetDeviceIDs(plats[info->platform_index], CL_DEVICE_TYPE_ALL, nd, devs, NULL));
    *pp = plats[info->platform_index];
    *dd = devs[info->device_index];
fail:
    free(plats);
    free(devs);
    return st;
}

clgan_status clgan_opencl_open(clgan_device *d, const clgan_device_options *opt) {
    clgan_status st = locate(&d->info, &d->cl.platform, &d->cl.device);
    if (st != CLGAN_OK) return st;
    st = clgan_gemm_setup(d, opt);
    if (st != CLGAN_OK) return st;
    cl_int err = CL_SUCCESS;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)d->cl.platform, 0};
    d->cl.context = clCreateContext(props, 1, &d->cl.device, NULL, NULL, &err);
    CL_CHECK(err);
    d->cl.queue = clCreateCommandQueue(d->cl.context, d->cl.device,
                                       opt->profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
    CL_CHECK(err);
    return clgan_programs_load(d, opt);
fail:
    return st;
}

/* ---- scratch memory ----
 * One buffer per device (d->cl.scratch), grown in whole MiB when a caller
 * needs more and released at close; the runtime alone allocates, grows and
 * frees it, as it does CLBlast's temporary buffer (gemm.c). A released
 * buffer lives until the queued work using it is done, so growing it under
 * an op's earlier launches is safe. It is registered with
 * clgan_cl_mem_created because a native GEMM may take it as an operand. */

static clgan_status scratch_error(clgan_device *d, size_t bytes, cl_int err) {
    return CLGAN_ERR(err == CL_OUT_OF_RESOURCES || err == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
                             err == CL_OUT_OF_HOST_MEMORY || err == CL_INVALID_BUFFER_SIZE
                         ? CLGAN_ERR_DEVICE_OOM
                         : CLGAN_ERR_DEVICE,
                     "device %s: clCreateBuffer of %zu bytes (%.1f MiB) of scratch failed: %s (%d)",
                     d->info.id, bytes, (double)bytes / 1048576.0, clgan_cl_error_name(err), (int)err);
}

clgan_status clgan_device_scratch(clgan_device *d, size_t bytes, cl_mem *out) {
    *out = NULL;
    if (bytes > d->cl.scratch_bytes) {
        size_t grow = (bytes + ((size_t)1 << 20) - 1) & ~(((size_t)1 << 20) - 1);
        if (d->info.max_alloc && grow > d->info.max_alloc) grow = bytes;
        if (d->cl.scratch) {
            clgan_cl_mem_released(d, d->cl.scratch);
            clReleaseMemObject(d->cl.scratch);
        }
        d->cl.scratch = NULL;
        d->cl.scratch_bytes = 0;
        cl_int err = CL_SUCCESS;
        cl_mem m = clCreateBuffer(d->cl.context, CL_MEM_READ_WRITE, grow, NULL, &err);
        if (err != CL_SUCCESS) return scratch_error(d, grow, err);
        clgan_status st = clgan_cl_mem_created(d, m);
        if (st != CLGAN_OK) {
            clReleaseMemObject(m);
            return st;
        }
        d->cl.scratch = m;
        d->cl.scratch_bytes = grow;
    }
    *out = d->cl.scratch;
    return CLGAN_OK;
}

static void cl_close(clgan_device *d) {
    for (int i = 0; i < d->cl.kernel_count; i++) clReleaseKernel(d->cl.kernels[i].kernel);
    free(d->cl.kernels);
    for (int i = 0; i < d->cl.program_count; i++) clReleaseProgram(d->cl.programs[i]);
    free(d->cl.programs);
    if (d->cl.scratch) clReleaseMemObject(d->cl.scratch);
    if (d->cl.gemm_temp) clReleaseMemObject(d->cl.gemm_temp);
    free(d->cl.mems);
    if (d->cl.queue) clReleaseCommandQueue(d->cl.queue);
    if (d->cl.context) clReleaseContext(d->cl.context);
}

static clgan_status oom(clgan_device *d, size_t bytes, const char *why) {
    return CLGAN_ERR(CLGAN_ERR_DEVICE_OOM,
                     "device %s (%s): could not allocate a buffer of %zu bytes (%.1f MiB): %s; the "
                     "device has %.1f MiB of global memory, at most %.1f MiB per buffer, and clgan "
                     "already holds %.1f MiB there (try a smaller --batch-size or model width)",
                     d->info.id, d->info.name, bytes, (double)bytes / 1048576.0, why,
                     (double)d->info.global_mem / 1048576.0, (double)d->info.max_alloc / 1048576.0,
                     (double)d->allocated / 1048576.0);
}

static clgan_status cl_alloc(clgan_device *d, size_t bytes, clgan_buffer *b) {
    if (d->info.max_alloc && bytes > d->info.max_alloc) return oom(d, bytes, "larger than the largest buffer allowed");
    if (d->info.global_mem && d->allocated + bytes > d->info.global_mem)
        return oom(d, bytes, "more than the device's global memory left");
    size_t n = bytes ? bytes : 4; /* a zero-size cl_mem is an error */
    cl_int err = CL_SUCCESS;
    b->mem = clCreateBuffer(d->cl.context, CL_MEM_READ_WRITE, n, NULL, &err);
    if (err != CL_SUCCESS) return oom(d, bytes, clgan_cl_error_name(err));
    /* Zero it, and wait: drivers allocate lazily, and an allocation failure
     * should surface here, naming the size, not at some later kernel. */
    const cl_uchar zero = 0;
    err = clEnqueueFillBuffer(d->cl.queue, b->mem, &zero, 1, 0, n, 0, NULL, NULL);
    if (err == CL_SUCCESS) err = clFinish(d->cl.queue);
    if (err != CL_SUCCESS) {
        clReleaseMemObject(b->mem);
        b->mem = NULL;
        return oom(d, bytes, clgan_cl_error_name(err));
    }
    clgan_status st = clgan_cl_mem_created(d, b->mem);
    if (st != CLGAN_OK) {
        clReleaseMemObject(b->mem);
        b->mem = NULL;
    }
    return st;
}

static void cl_free(clgan_buffer *b) {
    if (b->mem) {
        clgan_cl_mem_released(b->dev, b->mem);
        clReleaseMemObject(b->mem);
    }
}

static clgan_status cl_write(clgan_buffer *b, size_t off, const void *src, size_t n) {
    clgan_status st = CLGAN_OK;
    CL_CHECK(clEnqueueWriteBuffer(b->dev->cl.queue, b->mem, CL_TRUE, off, n, src, 0, NULL, NULL));
    b->dev->syncs++;
fail:
    return st;
}

static clgan_status cl_read(const clgan_buffer *b, size_t off, void *dst, size_t n) {
    clgan_status st = CLGAN_OK;
    CL_CHECK(clEnqueueReadBuffer(b->dev->cl.queue, b->mem, CL_TRUE, off, n, dst, 0, NULL, NULL));
    ((clgan_device *)b->dev)->syncs++;
fail:
    return st;
}

static clgan_status cl_copy(clgan_buffer *dst, size_t doff, const clgan_buffer *src, size_t soff, size_t n) {
    clgan_status st = CLGAN_OK;
    if (dst->mem == src->mem && doff < soff + n && soff < doff + n)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "overlapping copy within one OpenCL buffer");
    CL_CHECK(clEnqueueCopyBuffer(dst->dev->cl.queue, src->mem, dst->mem, soff, doff, n, 0, NULL, NULL));
fail:
    return st;
}

static clgan_status cl_finish(clgan_device *d) {
    clgan_status st = CLGAN_OK;
    CL_CHECK(clFinish(d->cl.queue));
    d->syncs++;
fail:
    return st;
}

const clgan_backend_ops clgan_opencl_ops = {
    .buffer_alloc = cl_alloc,
    .buffer_free = cl_free,
    .buffer_write = cl_write,
    .buffer_read = cl_read,
    .buffer_copy = cl_copy,
    .finish = cl_finish,
    .close = cl_close,
};
