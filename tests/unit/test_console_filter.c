/* cmocka: the console output filter (vmm/console_filter.c): what a guest may send a terminal. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "vmm/console_filter.h"

/* Run @in through a fresh filter; the output, NUL-terminated, in a static-free buffer. */
static size_t run(const char *in, size_t len, char *out, size_t room)
{
	struct console_filter f = { 0 };
	uint8_t o[CONSOLE_FILTER_OUT_MAX];
	size_t i, k, n = 0;

	for (i = 0; i < len; i++) {
		k = console_filter_feed(&f, (uint8_t)in[i], o);
		assert_true(k <= CONSOLE_FILTER_OUT_MAX);
		assert_true(n + k < room);
		memcpy(out + n, o, k);
		n += k;
	}
	out[n] = '\0';
	return n;
}

#define EXPECT(in, want)                                                          \
	do {                                                                      \
		char out_[512];                                                   \
		size_t n_ = run(in, sizeof(in) - 1, out_, sizeof(out_));          \
		assert_int_equal(n_, sizeof(want) - 1);                           \
		assert_memory_equal(out_, want, sizeof(want) - 1);                \
	} while (0)

static void text_and_line_editing_kept(void **state)
{
	(void)state;
	EXPECT("hello, world\r\n\tok\b!\a", "hello, world\r\n\tok\b!\a");
	/* Colours, cursor within the line, erase in line, insert/delete characters. */
	EXPECT("\033[1;31mred\033[0m", "\033[1;31mred\033[0m");
	EXPECT("\033[38:5:208mx\033[m", "\033[38:5:208mx\033[m");
	EXPECT("ab\033[2D\033[K\033[C\033[10G\033[3P\033[2@\033[X",
	       "ab\033[2D\033[K\033[C\033[10G\033[3P\033[2@\033[X");
	/* UTF-8, including U+00A0-U+00BF and 4-byte forms. */
	EXPECT("caf\xc3\xa9 \xc2\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	       "caf\xc3\xa9 \xc2\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

/* Issue 13 item 8: what could rewrite the operator's screen or title. */
static void screen_and_title_dropped(void **state)
{
	(void)state;
	EXPECT("a\033]0;pwned\007b", "ab");			/* title, BEL-terminated */
	EXPECT("a\033]2;pwned\033\\b", "ab");			/* title, ST-terminated */
	EXPECT("a\033]52;c;ZXZpbA==\007b", "ab");		/* clipboard write */
	EXPECT("a\033P+q544e\033\\b", "ab");			/* DCS (XTGETTCAP) */
	EXPECT("a\033_apc\033\\b\033^pm\033\\c\033Xsos\033\\d", "abcd");
	EXPECT("a\033[2J\033[H\033[5;1Hb", "ab");		/* clear, home, position */
	EXPECT("a\033[A\033[3Bb", "ab");			/* up, down: off the line */
	EXPECT("a\033[?1049h\033[?25lb", "ab");			/* alternate screen, hide cursor */
	EXPECT("a\033[6n\033[c\033[21tb", "ab");		/* reports typed back as input */
	EXPECT("a\033[8;1;1tb\033[1;2rc", "abc");		/* resize, scroll region */
	EXPECT("a\033cb\0337c\0338d", "abcd");			/* reset, save/restore cursor */
	EXPECT("a\033(0b\033)Bc", "abc");			/* charset designation */
	EXPECT("a\016b\017c\033", "abc");			/* SO/SI; a trailing ESC */
	/* C1 controls: raw 8-bit (CSI 0x9b, OSC 0x9d) and as UTF-8 (U+009B). */
	EXPECT("a\x9b" "2Jb\xc2\x9d" "0;x\007c", "a2Jb0;x\007c");	/* the rest is text */
}

/* A string may be long; ESC inside it that is not ST keeps it a string; CAN aborts. */
static void strings_and_aborts(void **state)
{
	char in[3000], out[64];
	size_t n;

	(void)state;
	memcpy(in, "a\033]0;", 5);
	memset(in + 5, 'x', sizeof(in) - 8);
	memcpy(in + sizeof(in) - 3, "\007b", 2);
	n = run(in, sizeof(in) - 1, out, sizeof(out));
	assert_int_equal(n, 2);
	assert_memory_equal(out, "ab", 2);
	EXPECT("a\033]0;x\033y\033\\b", "ab");
	EXPECT("a\033[1;2\030b", "ab");				/* CAN inside a CSI */
	EXPECT("a\033P1;2\032b", "ab");				/* SUB inside a DCS */
	/* BEL ends only an OSC: a DCS goes on to its ST. */
	EXPECT("a\033Pq\007still\033\\b", "ab");
}

/* A kept CSI that grows past the limit is dropped whole, then text resumes. */
static void long_csi_dropped(void **state)
{
	char in[128], out[128];
	size_t n;

	(void)state;
	memcpy(in, "a\033[", 3);
	memset(in + 3, '1', 60);
	memcpy(in + 63, "mb", 3);
	n = run(in, 65, out, sizeof(out));
	assert_int_equal(n, 2);
	assert_memory_equal(out, "ab", 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_and_line_editing_kept),
		cmocka_unit_test(screen_and_title_dropped),
		cmocka_unit_test(strings_and_aborts),
		cmocka_unit_test(long_csi_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
