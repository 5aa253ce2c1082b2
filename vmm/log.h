/* sluice: messages. Every message names its object (a VM, a BDF, a file). */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

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

/*
 * Rate-limited messages, for everything a guest can cause (a register write,
 * a ring, a BAR move): one guest exit must never buy one line of host log.
 * Per call site, LOG_RL_BURST messages per LOG_RL_INTERVAL_NS; the rest are
 * counted, and the first message of a later interval says how many were
 * suppressed (Linux's printk_ratelimited does the same).
 *
 * The state is a static in the macro's own block: one per call site. It is
 * the one accepted exception to "no global state": it belongs to a line of
 * code, not to a VM, and only ever counts. vCPU threads and workers hit the
 * same site at once, so it is atomics only, no lock; a window that restarts
 * while others count may let a message or two more through, never fewer.
 */
#define LOG_RL_BURST		10
#define LOG_RL_INTERVAL_NS	(5ull * 1000000000ull)

struct log_rl {
	_Atomic uint64_t start;		/* this window's start (CLOCK_MONOTONIC ns); 0: none yet */
	_Atomic unsigned printed;	/* messages let through in this window */
	_Atomic unsigned missed;	/* suppressed since the last one let through */
};

/*
 * Pure but for the atomics: may a message at @now pass? If so, *@missed is
 * how many were suppressed before it (to be reported with it).
 */
static inline bool log_rl_allow(struct log_rl *rl, uint64_t now, unsigned *missed)
{
	uint64_t start = atomic_load(&rl->start);

	*missed = 0;
	now = now ? now : 1;	/* 0 is "no window yet" */
	if ((start == 0 || now - start >= LOG_RL_INTERVAL_NS) &&
	    atomic_compare_exchange_strong(&rl->start, &start, now))
		atomic_store(&rl->printed, 0);
	if (atomic_load(&rl->printed) >= LOG_RL_BURST ||
	    atomic_fetch_add(&rl->printed, 1) >= LOG_RL_BURST) {
		atomic_fetch_add(&rl->missed, 1);
		return false;
	}
	*missed = atomic_exchange(&rl->missed, 0);
	return true;
}

static inline uint64_t log_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define pr_msg_rl_(prefix, fmt, ...)                                               \
	do {                                                                       \
		static struct log_rl rl_;  /* this call site's (see above) */     \
		int rl_errno_ = errno;                                             \
		unsigned rl_missed_;                                               \
		if (log_rl_allow(&rl_, log_now_ns(), &rl_missed_)) {               \
			if (rl_missed_)                                            \
				pr_msg_(prefix, fmt " (%u messages suppressed before this one)", \
					##__VA_ARGS__, rl_missed_);                \
			else                                                       \
				pr_msg_(prefix, fmt, ##__VA_ARGS__);               \
		}                                                                  \
		errno = rl_errno_;                                                 \
	} while (0)

#define pr_err_rl(fmt, ...)  pr_msg_rl_("", fmt, ##__VA_ARGS__)
#define pr_warn_rl(fmt, ...) pr_msg_rl_("warning: ", fmt, ##__VA_ARGS__)
#define pr_info_rl(fmt, ...) pr_msg_rl_("", fmt, ##__VA_ARGS__)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
