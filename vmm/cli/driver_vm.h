/* sluice: `sluice driver-vm` (sandbox/drivervm/dvm.h does the work). */
#ifndef SLUICE_CLI_DRIVER_VM_H
#define SLUICE_CLI_DRIVER_VM_H

#include "sandbox/drivervm/dvm.h"

/*
 * Parse `driver-vm run`'s arguments (argv[0] is "run") into @c, defaults
 * filled. 0; 1 when --help was printed; -EINVAL with a message on stderr.
 * Pure: touches no host state.
 */
int dvm_parse_opts(int argc, char **argv, struct dvm_config *c);

/* "10.99.0.1/24" into a network-order address and a prefix (8-30). 0 or -EINVAL. */
int dvm_parse_addr(const char *s, uint32_t *addr, unsigned *prefix);

/* The usage text (`sluice driver-vm --help`). */
const char *dvm_usage_text(void);

#endif
