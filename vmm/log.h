/* sluice: messages. Every message names its object (a VM, a BDF, a file). */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <errno.h>
#include <stdio.h>

/*
 * The macros keep errno as it was, so an error path may log and then
 * return -errno (stdio is free to change errno even when it succeeds).
 */
#define pr_msg_(prefix, fmt, ...)                                                  \
	do {                                                                       \
		int saved_errno_ = errno;                                          \
		fprintf(stderr, "sluice: " prefix fmt "\n", ##__VA_ARGS__);        \
		errno = saved_errno_;                                              \
	} while (0)

#define pr_err(fmt, ...)  pr_msg_("", fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) pr_msg_("warning: ", fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) pr_msg_("", fmt, ##__VA_ARGS__)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
