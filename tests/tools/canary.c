/*
 * canary: hold a page of L1 memory at a physical address above MIN (so it is
 * never guest RAM's IOVA), filled with a pattern. Prints its physical
 * address, waits for stdin to close, then checks the pattern: exit 0 intact,
 * 1 changed.
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

int main(int argc, char **argv)
{
	uint64_t min = argc > 1 ? strtoull(argv[1], NULL, 16) : 0, phys = 0;
	uint8_t *p = NULL;
	char buf[64];
	int i, n;

	for (i = 0; i < 4096 && phys < min; i++) {
		p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED,
			 -1, 0);
		if (p == MAP_FAILED)
			return 2;
		memset(p, PATTERN, PAGE);
		phys = phys_of(p);	/* pages below MIN stay mapped, so the next differs */
	}
	if (phys < min) {
		fprintf(stderr, "canary: no page above %#llx\n", (unsigned long long)min);
		return 2;
	}
	printf("canary phys=%#llx\n", (unsigned long long)phys);
	fflush(stdout);
	while ((n = (int)read(0, buf, sizeof(buf))) > 0)
		;
	for (i = 0; i < PAGE; i++)
		if (p[i] != PATTERN) {
			printf("canary CHANGED at +%d: %#x\n", i, p[i]);
			return 1;
		}
	printf("canary intact\n");
	return 0;
}
