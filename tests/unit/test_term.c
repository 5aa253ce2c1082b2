/* cmocka: the host terminal's raw mode and the escape-key state machine. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/cli/term.h"

#define CTRL_A 0x01

struct fed {
	uint8_t out[32];
	size_t nout;
	int quit, help;
};

/* What the input thread does with one read(): forward, quit or print help. */
static void feed(struct term_escape *st, struct fed *f, const char *in, size_t len)
{
	size_t i;
	uint8_t b;

	for (i = 0; i < len; i++) {
		switch (term_escape_feed(st, (uint8_t)in[i], &b)) {
		case TERM_SEND:
			assert_true(f->nout < sizeof(f->out));
			f->out[f->nout++] = b;
			break;
		case TERM_QUIT:
			f->quit++;
			break;
		case TERM_HELP:
			f->help++;
			break;
		case TERM_NONE:
			break;
		}
	}
}

static void plain_bytes_pass(void **state)
{
	struct term_escape st = { 0 };
	struct fed f = { .nout = 0 };
	const char in[] = "ls -l\r\x03\x1b[A\x7f";	/* Ctrl-C goes to the guest too */

	(void)state;
	feed(&st, &f, in, sizeof(in) - 1);
	assert_int_equal(f.nout, sizeof(in) - 1);
	assert_memory_equal(f.out, in, sizeof(in) - 1);
	assert_int_equal(f.quit + f.help, 0);
}

static void ctrl_a_x_quits(void **state)
{
	struct term_escape st = { 0 };
	struct fed f = { .nout = 0 };

	(void)state;
	feed(&st, &f, "a\001x", 3);
	assert_int_equal(f.quit, 1);
	assert_int_equal(f.nout, 1);
	assert_int_equal(f.out[0], 'a');
	assert_int_equal(f.help, 0);
}

static void ctrl_a_ctrl_a_sends_one(void **state)
{
	struct term_escape st = { 0 };
	struct fed f = { .nout = 0 };

	(void)state;
	feed(&st, &f, "\001\001x", 3);		/* the x after it is plain again */
	assert_int_equal(f.nout, 2);
	assert_int_equal(f.out[0], CTRL_A);
	assert_int_equal(f.out[1], 'x');
	assert_int_equal(f.quit + f.help, 0);
}

static void ctrl_a_other_key_helps(void **state)
{
	struct term_escape st = { 0 };
	struct fed f = { .nout = 0 };

	(void)state;
	feed(&st, &f, "\001h\001X\001\rk", 7);	/* both bytes of each swallowed */
	assert_int_equal(f.help, 3);
	assert_int_equal(f.quit, 0);
	assert_int_equal(f.nout, 1);
	assert_int_equal(f.out[0], 'k');
	assert_non_null(strstr(term_escape_help, "Ctrl-A x"));
}

static void escape_split_across_reads(void **state)
{
	struct term_escape st = { 0 };
	struct fed f = { .nout = 0 };

	(void)state;
	feed(&st, &f, "ab\001", 3);
	assert_int_equal(f.nout, 2);			/* the prefix waits */
	feed(&st, &f, "x", 1);
	assert_int_equal(f.quit, 1);
	feed(&st, &f, "\001", 1);
	feed(&st, &f, "\001", 1);
	assert_int_equal(f.nout, 3);
	assert_int_equal(f.out[2], CTRL_A);
}

static void not_a_tty_is_noop(void **state)
{
	struct term t;
	int fds[2], null_fd;

	(void)state;
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(null_fd >= 0);
	assert_int_equal(term_init(&t, null_fd), 0);
	assert_int_equal(term_raw(&t), 0);
	assert_int_equal(term_restore(&t), 0);
	assert_int_equal(term_restore(&t), 0);
	close(null_fd);

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(term_init(&t, fds[0]), 0);
	assert_int_equal(term_raw(&t), 0);
	assert_int_equal(term_restore(&t), 0);
	close(fds[0]);
	close(fds[1]);

	assert_int_equal(term_init(&t, -1), -EBADF);
}

static int open_pty_slave(int *master)
{
	char *name;

	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		return -1;
	if (grantpt(*master) || unlockpt(*master) || !(name = ptsname(*master))) {
		close(*master);
		return -1;
	}
	return open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
}

static void pty_raw_and_restore(void **state)
{
	struct termios now, before;
	struct term t;
	int master, slave;

	(void)state;
	slave = open_pty_slave(&master);
	if (slave < 0) {
		skip();			/* no /dev/ptmx here */
		return;
	}
	assert_int_equal(tcgetattr(slave, &before), 0);
	assert_int_equal(term_init(&t, slave), 0);
	assert_int_equal(term_raw(&t), 0);
	assert_int_equal(term_raw(&t), 0);
	assert_int_equal(tcgetattr(slave, &now), 0);
	assert_int_equal(now.c_lflag & (ECHO | ICANON | ISIG | IEXTEN), 0);
	assert_int_equal(now.c_iflag & (ICRNL | IXON), 0);
	assert_int_equal(now.c_oflag, before.c_oflag);	/* OPOST kept */
	assert_int_equal(now.c_cc[VMIN], 1);

	errno = 1234;
	assert_int_equal(term_restore(&t), 0);
	assert_int_equal(errno, 1234);			/* signal-handler safe */
	assert_int_equal(term_restore(&t), 0);
	assert_int_equal(tcgetattr(slave, &now), 0);
	assert_int_equal(now.c_lflag, before.c_lflag);
	assert_int_equal(now.c_iflag, before.c_iflag);
	close(slave);
	close(master);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_bytes_pass),
		cmocka_unit_test(ctrl_a_x_quits),
		cmocka_unit_test(ctrl_a_ctrl_a_sends_one),
		cmocka_unit_test(ctrl_a_other_key_helps),
		cmocka_unit_test(escape_split_across_reads),
		cmocka_unit_test(not_a_tty_is_noop),
		cmocka_unit_test(pty_raw_and_restore),
	};
	return cmocka_run_group_tests_name("term", tests, NULL, NULL);
}
