// CLBlast's C++-only entry points, behind a C interface (clblast_tune.h):
// its tuner (clblast::TuneXgemm, clblast::TuneXgemmDirect) and the
// parameters a device currently uses (clblast::RetrieveParameters). No
// exception leaves this file.
#include "runtime/clblast_tune.h"

#include <clblast.h>

#include <cstdio>
#include <exception>
#include <string>
#include <unordered_map>

namespace {

int copy_out(const std::unordered_map<std::string, size_t> &p, clgan_clblast_params *out) {
    out->n = 0;
    for (const auto &kv : p) {
        if (out->n == CLGAN_CLBLAST_MAX_PARAMS || kv.first.size() >= sizeof out->names[0]) return -1;
        std::snprintf(out->names[out->n], sizeof out->names[0], "%s", kv.first.c_str());
        out->values[out->n] = kv.second;
        out->n++;
    }
    return 0;
}

}  // namespace

extern "C" int clgan_clblast_tune(cl_command_queue queue, const char *kernel, size_t m, size_t n, size_t k,
                                  double fraction, clgan_clblast_params *out, char *why, size_t why_cap) {
    std::unordered_map<std::string, size_t> p;
    try {
        clblast::StatusCode s;
        std::string name(kernel);
        if (name == "Xgemm")
            s = clblast::TuneXgemm<float>(&queue, m, n, k, fraction, p);
        else if (name == "XgemmDirect")
            s = clblast::TuneXgemmDirect<float>(&queue, m, n, k, fraction, p);
        else {
            std::snprintf(why, why_cap, "no tuner for kernel %s", kernel);
            return -1;
        }
        // TuneXgemm searches GEMMK=0 and then GEMMK=1, the second overwriting
        // the first's result; a second search that tried nothing (its sample
        // rounds to zero configurations) fails but leaves the first's best.
        if (s != clblast::StatusCode::kSuccess && p.empty()) {
            std::snprintf(why, why_cap, "CLBlast's tuner found no working configuration (status %d)",
                          static_cast<int>(s));
            return -1;
        }
    } catch (const std::exception &e) {
        std::snprintf(why, why_cap, "CLBlast's tuner: %s", e.what());
        return -1;
    } catch (...) {
        std::snprintf(why, why_cap, "CLBlast's tuner failed");
        return -1;
    }
    if (copy_out(p, out) != 0) {
        std::snprintf(why, why_cap, "CLBlast's tuner returned more parameters than expected");
        return -1;
    }
    return 0;
}

extern "C" int clgan_clblast_current(cl_device_id device, const char *kernel, clgan_clblast_params *out, char *why,
                                     size_t why_cap) {
    std::unordered_map<std::string, size_t> p;
    try {
        clblast::StatusCode s = clblast::RetrieveParameters(device, kernel, clblast::Precision::kSingle, p);
        if (s != clblast::StatusCode::kSuccess) {
            std::snprintf(why, why_cap, "CLBlast has no parameters for kernel %s (status %d)", kernel,
                          static_cast<int>(s));
            return -1;
        }
    } catch (...) {
        std::snprintf(why, why_cap, "CLBlast failed to report its parameters for kernel %s", kernel);
        return -1;
    }
    if (copy_out(p, out) != 0) {
        std::snprintf(why, why_cap, "CLBlast reports more parameters than expected for %s", kernel);
        return -1;
    }
    return 0;
}
