/* sluice: host terminal, raw mode and escape key. */
#include <errno.h>
#include <string.h>

#include "vmm/cli/term.h"

const char term_escape_help[] =
	"sluice: console: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A to the guest\n";

int term_init(struct term *t, int fd)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	if (tcgetattr(fd, &t->saved) == 0) {
		t->is_tty = true;
		return 0;
	}
	return errno == ENOTTY ? 0 : -errno;
}

int term_raw(struct term *t)
{
	struct termios raw;

	if (!t->is_tty || t->raw)
		return 0;
	raw = t->saved;
	/* cfmakeraw(3) without its ~OPOST; the same as QEMU's stdio chardev. */
	raw.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	raw.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	raw.c_cflag &= ~(CSIZE | PARENB);
	raw.c_cflag |= CS8;
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	/* Flag first: a signal arriving mid-way restores rather than misses. */
	t->raw = 1;
	if (tcsetattr(t->fd, TCSANOW, &raw) < 0) {
		t->raw = 0;
		return -errno;
	}
	return 0;
}

int term_restore(struct term *t)
{
	int saved_errno = errno, err = 0;

	if (!t->is_tty || !t->raw)
		return 0;
	/* TCSANOW, not TCSADRAIN: a signal handler must not wait on output. */
	while (tcsetattr(t->fd, TCSANOW, &t->saved) < 0) {
		if (errno != EINTR) {
			err = -errno;
			break;
		}
	}
	if (!err)
		t->raw = 0;
	errno = saved_errno;
	return err;
}

enum term_action term_escape_feed(struct term_escape *st, uint8_t in, uint8_t *out)
{
	if (!st->pending) {
		if (in == TERM_ESCAPE_CHAR) {
			st->pending = true;
			return TERM_NONE;
		}
		*out = in;
		return TERM_SEND;
	}
	st->pending = false;
	if (in == TERM_ESCAPE_CHAR) {
		*out = in;
		return TERM_SEND;
	}
	return in == 'x' ? TERM_QUIT : TERM_HELP;
}
