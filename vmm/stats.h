/*
 * sluice: KVM's binary statistics (Documentation/virt/kvm/api.rst,
 * KVM_GET_STATS_FD): per-vCPU exit counters, read after the run.
 */
#ifndef SLUICE_STATS_H
#define SLUICE_STATS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Pure: find the cumulative u64 statistic @name in a whole stats file's
 * bytes (@buf, @len) and add its value(s) to *@val. 0, -ENOENT when there is
 * no such statistic, -EINVAL for a malformed file.
 */
int kvm_stats_find(const void *buf, size_t len, const char *name, uint64_t *val);

/* Read the stats fd of a vCPU (or VM) @fd into a malloc'd buffer; -errno. */
int kvm_stats_load(int fd, void **buf, size_t *len);

#endif
