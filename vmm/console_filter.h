/*
 * sluice: what of the guest's console output may reach the operator's
 * terminal. A guest owns its serial output, so without a filter it could
 * set the terminal's title (OSC 0/2), write its clipboard (OSC 52), ask for
 * answers typed back as if by the operator (DSR, DA, title reports), switch
 * character sets, clear the screen, move the cursor over sluice's own
 * messages, or reset the terminal.
 *
 * Kept (ECMA-48 / xterm ctlseqs): printable text, UTF-8, TAB, LF, CR, BS,
 * BEL; CSI with plain parameters (digits, ';', ':') and a final among
 *   m     SGR: colours and attributes
 *   C D G cursor forward, back, to column (within the line)
 *   K     erase in line
 *   @ P X insert, delete, erase characters
 * which is what a shell's line editing and coloured output use. Dropped
 * whole: every other CSI (cursor up/down/position, erase display, modes,
 * scroll regions, reports, window operations, private parameters), OSC,
 * DCS, SOS, PM, APC (up to their BEL or ST), any other ESC sequence, the
 * other C0 controls, and the C1 controls (raw 0x80-0x9f outside a UTF-8
 * sequence, and their UTF-8 forms U+0080-U+009F).
 *
 * Pure: a byte in, zero or more bytes out; a zeroed struct is ready.
 */
#ifndef SLUICE_CONSOLE_FILTER_H
#define SLUICE_CONSOLE_FILTER_H

#include <stddef.h>
#include <stdint.h>

/* A kept CSI longer than this (parameters included) is dropped instead. */
#define CONSOLE_FILTER_CSI_MAX	32
/* The most one console_filter_feed() call writes. */
#define CONSOLE_FILTER_OUT_MAX	(CONSOLE_FILTER_CSI_MAX + 2)

struct console_filter {
	uint8_t state;		/* enum in console_filter.c */
	uint8_t utf8_left;	/* continuation bytes still due */
	uint8_t len;		/* bytes held in buf */
	uint8_t buf[CONSOLE_FILTER_CSI_MAX];
};

/* Feed one byte of guest output; returns how many bytes it wrote to @out. */
size_t console_filter_feed(struct console_filter *f, uint8_t in, uint8_t *out);

#endif
