/*
 * sluice: the console output filter (vmm/console_filter.h). One state per
 * place in an ECMA-48 sequence; the string states swallow until their
 * terminator, whatever the length, and hold nothing.
 */
#include <stdbool.h>
#include <string.h>

#include "vmm/console_filter.h"

#define ESC	0x1b
#define BEL	0x07
#define CAN	0x18	/* ECMA-48 §8.3.13: cancels a sequence */
#define SUB	0x1a

enum {
	S_TEXT,
	S_ESC,		/* after ESC */
	S_ESC_INTER,	/* ESC, intermediates (0x20-0x2f): charset designation etc. */
	S_CSI,		/* ESC [ ..., held in buf while it may be kept */
	S_CSI_DROP,	/* a CSI we drop, until its final byte */
	S_STRING,	/* OSC, DCS, SOS, PM, APC: until ST (or BEL for OSC) */
	S_STRING_ESC,	/* ESC inside a string: ST if '\' follows */
	S_UTF8_C2,	/* 0xc2 held: U+0080-U+009F (C1) follow as 0x80-0x9f */
};

static bool csi_final_kept(uint8_t c)
{
	return c && strchr("mCDGK@PX", c);
}

static bool csi_param_plain(uint8_t c)
{
	return (c >= '0' && c <= '9') || c == ';' || c == ':';
}

/* ESC then @c: the kind of sequence it opens. */
static size_t after_esc(struct console_filter *f, uint8_t c)
{
	if (c == '[') {
		f->state = S_CSI;
		f->buf[0] = ESC;
		f->buf[1] = '[';
		f->len = 2;
	} else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
		f->state = S_STRING;
		f->buf[0] = c;	/* which string: BEL ends only an OSC */
	} else if (c >= 0x20 && c <= 0x2f) {
		f->state = S_ESC_INTER;
	} else {
		f->state = S_TEXT;	/* a two-byte sequence (RIS, DECSC...): dropped */
	}
	return 0;
}

static size_t csi(struct console_filter *f, uint8_t c, uint8_t *out)
{
	size_t n;

	if (c >= 0x40 && c <= 0x7e) {		/* the final byte */
		f->state = S_TEXT;
		if (!csi_final_kept(c))
			return 0;
		n = f->len;
		memcpy(out, f->buf, n);
		out[n++] = c;
		return n;
	}
	if (!csi_param_plain(c) || f->len == CONSOLE_FILTER_CSI_MAX) {
		f->state = S_CSI_DROP;		/* private, intermediate, or too long */
		return 0;
	}
	f->buf[f->len++] = c;
	return 0;
}

/* Text, with UTF-8 followed just enough to tell a C1 control from a continuation byte. */
static size_t text(struct console_filter *f, uint8_t c, uint8_t *out)
{
	if (c >= 0x80 && c <= 0xbf && f->utf8_left) {
		f->utf8_left--;
		*out = c;
		return 1;
	}
	f->utf8_left = 0;
	if (c == ESC) {
		f->state = S_ESC;
		return 0;
	}
	if (c < 0x20 || c == 0x7f)
		return (c == '\t' || c == '\n' || c == '\r' || c == '\b' || c == BEL) ? (*out = c, 1) : 0;
	if (c >= 0x80 && c <= 0x9f)
		return 0;			/* C1 in an 8-bit terminal */
	if (c == 0xc2) {
		f->state = S_UTF8_C2;
		return 0;
	}
	if (c >= 0xc3 && c <= 0xf4)
		f->utf8_left = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
	*out = c;
	return 1;
}

size_t console_filter_feed(struct console_filter *f, uint8_t c, uint8_t *out)
{
	/* ECMA-48: CAN and SUB abort any sequence in progress. */
	if ((c == CAN || c == SUB) && f->state != S_TEXT) {
		f->state = S_TEXT;
		return 0;
	}
	switch (f->state) {
	case S_ESC:
		return after_esc(f, c);
	case S_ESC_INTER:
		if (c < 0x20 || c > 0x2f)
			f->state = S_TEXT;	/* its final byte: the whole sequence dropped */
		return 0;
	case S_CSI:
		return csi(f, c, out);
	case S_CSI_DROP:
		if (c >= 0x40 && c <= 0x7e)
			f->state = S_TEXT;
		return 0;
	case S_STRING:
		if (c == ESC)
			f->state = S_STRING_ESC;
		else if (c == BEL && f->buf[0] == ']')
			f->state = S_TEXT;
		return 0;
	case S_STRING_ESC:
		/* ST is ESC '\'; an ESC followed by anything else stays inside the string. */
		f->state = c == '\\' ? S_TEXT : c == ESC ? S_STRING_ESC : S_STRING;
		return 0;
	case S_UTF8_C2:
		f->state = S_TEXT;
		if (c >= 0x80 && c <= 0x9f)
			return 0;		/* U+0080-U+009F: C1 controls */
		if (c >= 0xa0 && c <= 0xbf) {
			out[0] = 0xc2;
			out[1] = c;
			return 2;
		}
		return text(f, c, out);		/* a broken sequence: the lead byte goes */
	default:
		return text(f, c, out);
	}
}
