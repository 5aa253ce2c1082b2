/*
 * sluice: the host terminal that stands in for COM1's far end. Raw mode so
 * every key (Ctrl-C included) reaches the guest, and an escape key, as in
 * QEMU's -nographic, to get back out.
 */
#ifndef SLUICE_TERM_H
#define SLUICE_TERM_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <termios.h>

struct term {
	int fd;
	bool is_tty;		/* @saved holds @fd's settings */
	volatile sig_atomic_t raw;	/* raw mode is in force */
	struct termios saved;
};

/*
 * Remember @fd (normally STDIN_FILENO) and, when it is a terminal, its
 * settings. A non-terminal is fine: term_raw() and term_restore() are then
 * no-ops. 0 or -errno.
 */
int term_init(struct term *t, int fd);

/*
 * Raw input: no echo, no line editing, no signals from keys (ISIG off, so
 * Ctrl-C and Ctrl-Z go to the guest), no CR/LF or flow-control translation,
 * 8-bit. Output processing (OPOST) stays on, as in QEMU, so sluice's own
 * messages still start at column 0. 0 (also when already raw or not a
 * terminal) or -errno.
 */
int term_raw(struct term *t);

/*
 * Put back the settings term_init() saw. Safe to call twice, and from a
 * signal handler: it calls only tcsetattr(), which POSIX lists as
 * async-signal-safe, and preserves errno. A handler that interrupts a
 * term_restore() may restore once more, which is harmless. 0 (also when
 * not raw or not a terminal) or -errno.
 */
int term_restore(struct term *t);

/*
 * The escape key. Typed bytes go through term_escape_feed() one at a time:
 *   Ctrl-A x       quit (TERM_QUIT)
 *   Ctrl-A Ctrl-A  one Ctrl-A for the guest (TERM_SEND)
 *   Ctrl-A other   both bytes swallowed; print term_escape_help (TERM_HELP)
 *   anything else  for the guest (TERM_SEND)
 * The state carries over between calls, so an escape split across two
 * reads works. A zeroed struct term_escape is ready to use.
 */
#define TERM_ESCAPE_CHAR	0x01	/* Ctrl-A */

enum term_action {
	TERM_NONE,	/* byte swallowed (an escape prefix); nothing to do */
	TERM_SEND,	/* send *out to the guest */
	TERM_QUIT,	/* the user asked to quit */
	TERM_HELP,	/* print term_escape_help to stderr */
};

struct term_escape {
	bool pending;	/* the last byte was TERM_ESCAPE_CHAR */
};

extern const char term_escape_help[];

enum term_action term_escape_feed(struct term_escape *st, uint8_t in, uint8_t *out);

#endif
