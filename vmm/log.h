/* sluice: messages. Every message names its object (a VM, a BDF, a file). */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdio.h>

#define pr_err(fmt, ...)  fprintf(stderr, "sluice: " fmt "\n", ##__VA_ARGS__)
#define pr_warn(fmt, ...) fprintf(stderr, "sluice: warning: " fmt "\n", ##__VA_ARGS__)
#define pr_info(fmt, ...) fprintf(stderr, "sluice: " fmt "\n", ##__VA_ARGS__)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
