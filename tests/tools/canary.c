/*
 * canary: hold a page of L1 memory at a physical address above MIN (so it is
 * never an IOVA the guest's RAM is mapped at), filled with a pattern. Prints
 * its physical address, waits for stdin to close, then checks the pattern:
 * exit 0 intact, 1 changed, 2 no such page.
 *
 *   canary MIN_HEX  -> "canary phys=0x..." ... "canary intact" | "canary CHANGED"
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/tools/pagemap.h"

#define PATTERN 0x5a
#define POOL (512ul << 20)	/* one populated mapping: a page above MIN is in it */

/* The first page of [p, p + POOL) whose frame lies at or above @min, or NULL. */
static uint8_t *page_above(uint8_t *p, uint64_t min, uint64_t *phys)
{
	size_t i;

	for (i = 0; i < POOL / PAGE; i++) {
		*phys = phys_of(p + i * PAGE);
		if (*phys >= min)
			return p + i * PAGE;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t min = argc > 1 ? strtoull(argv[1], NULL, 16) : 0, phys = 0;
	uint8_t *pool, *p;
	char buf[64];
	int i;

	pool = mmap(NULL, POOL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		    -1, 0);
	if (pool == MAP_FAILED)
		return 2;
	p = page_above(pool, min, &phys);
	if (!p) {
		fprintf(stderr, "canary: no page above %#llx\n", (unsigned long long)min);
		return 2;
	}
	/* Keep the one page, locked; give the rest back. */
	if (p > pool)
		munmap(pool, (size_t)(p - pool));
	if (p + PAGE < pool + POOL)
		munmap(p + PAGE, (size_t)(pool + POOL - (p + PAGE)));
	mlock(p, PAGE);
	memset(p, PATTERN, PAGE);
	printf("canary phys=%#llx\n", (unsigned long long)phys_of(p));
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	for (i = 0; i < PAGE; i++)
		if (p[i] != PATTERN) {
			printf("canary CHANGED at +%d: %#x\n", i, p[i]);
			return 1;
		}
	printf("canary intact\n");
	return 0;
}
