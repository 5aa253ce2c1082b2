/* sluice: parsing KVM's binary statistics. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/stats.h"

static int desc_value(const uint8_t *b, size_t len, const struct kvm_stats_header *h,
		      const struct kvm_stats_desc *d, uint64_t *val)
{
	uint64_t off = (uint64_t)h->data_offset + d->offset, i;
	uint64_t v;

	if ((d->flags & KVM_STATS_TYPE_MASK) == KVM_STATS_TYPE_LINEAR_HIST ||
	    (d->flags & KVM_STATS_TYPE_MASK) == KVM_STATS_TYPE_LOG_HIST)
		return -ENOENT;
	if (d->size == 0 || off > len || (uint64_t)d->size * sizeof(v) > len - off)
		return -EINVAL;
	for (i = 0; i < d->size; i++) {
		memcpy(&v, b + off + i * sizeof(v), sizeof(v));
		*val += v;
	}
	return 0;
}

int kvm_stats_find(const void *buf, size_t len, const char *name, uint64_t *val)
{
	const uint8_t *b = buf;
	struct kvm_stats_header h;
	size_t dsz, i;

	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, b, sizeof(h));
	dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	if (!h.name_size || h.desc_offset > len || h.num_desc > (len - h.desc_offset) / dsz)
		return -EINVAL;
	for (i = 0; i < h.num_desc; i++) {
		const struct kvm_stats_desc *d = (const void *)(b + h.desc_offset + i * dsz);

		if (strnlen(d->name, h.name_size) < h.name_size && !strcmp(d->name, name))
			return desc_value(b, len, &h, d, val);
	}
	return -ENOENT;
}

int kvm_stats_load(int fd, void **buf, size_t *len)
{
	int sfd = ioctl(fd, KVM_GET_STATS_FD, NULL);
	size_t cap = 1 << 16, n = 0;
	ssize_t r;
	uint8_t *p;

	if (sfd < 0)
		return -errno;
	p = malloc(cap);
	while (p && (r = pread(sfd, p + n, cap - n, (off_t)n)) > 0) {
		n += (size_t)r;
		if (n == cap) {
			uint8_t *q = realloc(p, cap *= 2);

			if (!q) {
				free(p);
				p = NULL;
			}
			p = q;
		}
	}
	close(sfd);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*len = n;
	return 0;
}
