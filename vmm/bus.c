/*
 * sluice: an address space as a sorted array of ranges (vmm/bus.h).
 *
 * A VM has a few dozen ranges and looks them up on every exit, so a sorted
 * array with binary search beats a tree: one cache-friendly allocation, and
 * (un)registration is rare (boot, BAR moves).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bus.h"

int bus_init(struct bus *b, const char *name)
{
	int err;

	memset(b, 0, sizeof(*b));
	b->name = name;
	err = pthread_rwlock_init(&b->lock, NULL);
	return -err;
}

void bus_exit(struct bus *b)
{
	free(b->ranges);
	pthread_rwlock_destroy(&b->lock);
	memset(b, 0, sizeof(*b));
}

/* Index of the first range whose base is above @addr (0..nr). Lock held. */
static size_t upper_bound(const struct bus *b, uint64_t addr)
{
	size_t lo = 0, hi = b->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Last byte of a range; callers refuse ranges where this would wrap. */
static uint64_t range_last(const struct bus_range *r)
{
	return r->base + (r->len - 1);
}

static int grow(struct bus *b)
{
	size_t cap = b->cap ? b->cap * 2 : 16;
	struct bus_range *r;

	r = reallocarray(b->ranges, cap, sizeof(*r));
	if (!r)
		return -ENOMEM;
	b->ranges = r;
	b->cap = cap;
	return 0;
}

int bus_register(struct bus *b, uint64_t base, uint64_t len, bus_io_fn fn, void *opaque,
		 const char *name)
{
	struct bus_range r = { .base = base, .len = len, .fn = fn, .opaque = opaque, .name = name };
	size_t i;
	int err = 0;

	/* A range may end at the very top of the space, but not wrap past it. */
	if (!len || len - 1 > UINT64_MAX - base || !fn)
		return -EINVAL;

	pthread_rwlock_wrlock(&b->lock);
	i = upper_bound(b, base);
	/* Sorted and disjoint: only the neighbours on either side can overlap. */
	if ((i > 0 && range_last(&b->ranges[i - 1]) >= base) ||
	    (i < b->nr && b->ranges[i].base <= range_last(&r))) {
		err = -EEXIST;
		goto out_unlock;
	}
	if (b->nr == b->cap) {
		err = grow(b);
		if (err)
			goto out_unlock;
	}
	memmove(&b->ranges[i + 1], &b->ranges[i], (b->nr - i) * sizeof(r));
	b->ranges[i] = r;
	b->nr++;

out_unlock:
	pthread_rwlock_unlock(&b->lock);
	return err;
}

int bus_unregister(struct bus *b, uint64_t base)
{
	size_t i;
	int err = -ENOENT;

	pthread_rwlock_wrlock(&b->lock);
	i = upper_bound(b, base);
	if (i > 0 && b->ranges[i - 1].base == base) {
		i--;
		memmove(&b->ranges[i], &b->ranges[i + 1], (b->nr - i - 1) * sizeof(b->ranges[0]));
		b->nr--;
		err = 0;
	}
	pthread_rwlock_unlock(&b->lock);
	return err;
}

int bus_access(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct bus_range r;
	bool found = false;
	size_t i;

	pthread_rwlock_rdlock(&b->lock);
	i = upper_bound(b, addr);
	if (i > 0 && len) {
		r = b->ranges[i - 1];
		/* Wholly inside: start in range, and @len fits in what is left of it. */
		found = addr - r.base <= r.len - 1 && len - 1 <= range_last(&r) - addr;
	}
	/* Under the read lock the array stays put; vCPUs count in parallel. */
	__atomic_fetch_add(found ? &b->ranges[i - 1].hits : &b->misses, 1, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&b->lock);

	if (!found) {
		if (!is_write)
			memset(data, 0xff, len);
		return -ENOENT;
	}
	/* Unlocked, on a copy: the callback may (un)register ranges, even its own. */
	r.fn(r.opaque, addr - r.base, data, len, is_write);
	return 0;
}

void bus_print_hits(struct bus *b, FILE *f)
{
	size_t i;

	pthread_rwlock_rdlock(&b->lock);
	for (i = 0; i < b->nr; i++) {
		uint64_t n = __atomic_load_n(&b->ranges[i].hits, __ATOMIC_RELAXED);

		if (n)
			fprintf(f, " %s=%llu", b->ranges[i].name ? b->ranges[i].name : "?",
				(unsigned long long)n);
	}
	fprintf(f, " unclaimed=%llu", (unsigned long long)__atomic_load_n(&b->misses, __ATOMIC_RELAXED));
	pthread_rwlock_unlock(&b->lock);
}
