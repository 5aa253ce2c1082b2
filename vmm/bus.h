/*
 * sluice: an address space (port I/O or MMIO) as a registry of ranges.
 * Devices register callbacks for ranges; the core never includes a device's
 * header. Lookups take a read lock only to find the range; the callback runs
 * unlocked, so a callback may itself (un)register ranges (a guest moving a
 * BAR from inside a config-space write). A device serialises its own state.
 */
#ifndef SLUICE_BUS_H
#define SLUICE_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * @offset is relative to the range's base. @data holds @len bytes (1, 2, 4
 * or 8; MMIO may be other sizes up to 8): filled on reads, consumed on writes.
 */
typedef void (*bus_io_fn)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
			  bool is_write);

struct bus_range {
	uint64_t base;
	uint64_t len;
	bus_io_fn fn;
	void *opaque;
	const char *name;	/* for messages: "com1", "0000:00:02.0 BAR0"; borrowed,
				 * must outlive the registration */
	uint64_t hits;		/* accesses dispatched (atomic adds under the read lock) */
};

struct bus {
	const char *name;	/* "pio" or "mmio" */
	pthread_rwlock_t lock;
	struct bus_range *ranges;	/* sorted by base, never overlapping */
	size_t nr, cap;
	uint64_t misses;	/* accesses no range held (atomic) */
};

int bus_init(struct bus *b, const char *name);
void bus_exit(struct bus *b);

/* 0; -EINVAL for an empty or wrapping range; -EEXIST if it overlaps another. */
int bus_register(struct bus *b, uint64_t base, uint64_t len, bus_io_fn fn, void *opaque,
		 const char *name);
/*
 * Remove the range that starts at @base; 0 or -ENOENT. A vCPU may still be in
 * the range's callback when this returns (callbacks run unlocked), so its
 * @opaque must outlive the running vCPUs: free a device only after vm_join.
 */
int bus_unregister(struct bus *b, uint64_t base);

/*
 * Dispatch an access that starts at @addr. 0, or -ENOENT when no range holds
 * [addr, addr + len) wholly (reads then see all-ones: bus_access fills @data;
 * writes are dropped).
 */
int bus_access(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

/*
 * Print " NAME=HITS" for every range the guest accessed, and " unclaimed=N",
 * to @f: what each device model costs in exits to sluice (--stats). A range
 * that was unregistered (a moved BAR) takes its count with it.
 */
void bus_print_hits(struct bus *b, FILE *f);

#endif
