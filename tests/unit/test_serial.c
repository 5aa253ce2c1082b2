/* cmocka: the 16550A UART, driven through its port I/O callback. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/serial.h"

enum { RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR };
#define FCR IIR
#define THR RBR
#define DLL RBR
#define DLM IER

struct ctx {
	struct serial s;
	uint8_t out[64];
	size_t nout;
	int levels[64];		/* every set_irq() call, in order */
	size_t nirq;
};

static void fake_set_irq(void *opaque, int level)
{
	struct ctx *c = opaque;

	assert_true(c->nirq < 64);
	c->levels[c->nirq++] = level;
}

static void fake_tx(void *opaque, uint8_t byte)
{
	struct ctx *c = opaque;

	assert_true(c->nout < sizeof(c->out));
	c->out[c->nout++] = byte;
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct serial_config cfg = {
		.name = "com1", .set_irq = fake_set_irq, .tx = fake_tx, .tx_fd = -1, .opaque = c,
	};

	if (!c || serial_init(&c->s, &cfg))
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	serial_exit(&c->s);
	free(c);
	return 0;
}

static uint8_t in8(struct ctx *c, unsigned reg)
{
	uint8_t v = 0xaa;

	serial_io(&c->s, reg, &v, 1, false);
	return v;
}

static void out8(struct ctx *c, unsigned reg, uint8_t v)
{
	serial_io(&c->s, reg, &v, 1, true);
}

static bool room_signalled(struct ctx *c)
{
	struct pollfd pfd = { .fd = serial_rx_room_fd(&c->s), .events = POLLIN };
	uint64_t n;

	if (poll(&pfd, 1, 0) != 1)
		return false;
	assert_int_equal(read(pfd.fd, &n, sizeof(n)), sizeof(n));	/* rearm */
	return true;
}

static void divisor_latch(void **state)
{
	struct ctx *c = *state;

	out8(c, IER, 0x05);
	out8(c, LCR, 0x83);		/* DLAB, 8N1 */
	out8(c, DLL, 0x01);
	out8(c, DLM, 0x02);
	assert_int_equal(in8(c, DLL), 0x01);
	assert_int_equal(in8(c, DLM), 0x02);
	assert_int_equal(in8(c, LCR), 0x83);
	out8(c, LCR, 0x03);
	assert_int_equal(in8(c, IER), 0x05);	/* IER untouched by the DLM write */
	assert_int_equal(c->nout, 0);		/* the DLL write sent nothing */
	out8(c, LCR, 0x83);
	assert_int_equal(in8(c, DLL), 0x01);
}

static void scratch_and_masks(void **state)
{
	struct ctx *c = *state;
	uint8_t wide[2] = { 0, 0 };

	out8(c, SCR, 0x5a);
	assert_int_equal(in8(c, SCR), 0x5a);
	out8(c, IER, 0xff);			/* Linux's probe: bits 7:4 read 0 */
	assert_int_equal(in8(c, IER), 0x0f);
	out8(c, MCR, 0xff);
	assert_int_equal(in8(c, MCR), 0x1f);
	serial_io(&c->s, SCR, wide, 2, false);	/* the second byte is past the UART */
	assert_int_equal(wide[0], 0x5a);
	assert_int_equal(wide[1], 0xff);
}

static void tx_reaches_output(void **state)
{
	struct ctx *c = *state;

	out8(c, LCR, 0x03);
	assert_int_equal(in8(c, LSR) & 0x61, 0x60);	/* THRE, TEMT, no DR */
	out8(c, THR, 'h');
	out8(c, THR, 'i');
	assert_int_equal(c->nout, 2);
	assert_memory_equal(c->out, "hi", 2);
	assert_int_equal(in8(c, LSR) & 0x61, 0x60);	/* sent at once */
}

static void tx_to_fd(void **state)
{
	struct serial s;
	struct serial_config cfg = { .name = "com1" };
	int fds[2];
	char buf[4] = { 0 };
	uint8_t v = 'k';

	(void)state;
	assert_int_equal(pipe(fds), 0);
	cfg.tx_fd = fds[1];
	assert_int_equal(serial_init(&s, &cfg), 0);
	serial_io(&s, THR, &v, 1, true);
	serial_exit(&s);
	close(fds[1]);
	assert_int_equal(read(fds[0], buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 'k');
	close(fds[0]);
}

/* Write @len bytes of guest output through THR. */
static void guest_out(struct serial *s, const char *text, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t v = (uint8_t)text[i];

		serial_io(s, THR, &v, 1, true);
	}
}

/*
 * Issue 13 item 8: on a terminal, the guest's title and screen-rewriting
 * sequences never arrive; colours and line editing do. A pty stands in for
 * the operator's terminal.
 */
static void tx_to_terminal_filtered(void **state)
{
	static const char in[] = "a\033]0;pwned\007b\033[2J\033[31mc\033[0m\033[Kd\033P1$r\033\\e\r\n";
	static const char want[] = "ab\033[31mc\033[0m\033[Kde\r\n";
	struct serial_config cfg = { .name = "com1" };
	struct termios t;
	struct serial s;
	char buf[128];
	ssize_t n;
	int m, sl;

	(void)state;
	m = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	sl = open(ptsname(m), O_RDWR | O_NOCTTY);
	assert_true(sl >= 0);
	assert_int_equal(tcgetattr(sl, &t), 0);
	cfmakeraw(&t);			/* no CR/LF translation: the bytes as sent */
	assert_int_equal(tcsetattr(sl, TCSANOW, &t), 0);
	cfg.tx_fd = sl;
	assert_int_equal(serial_init(&s, &cfg), 0);
	guest_out(&s, in, sizeof(in) - 1);
	serial_exit(&s);
	/* The pty hands bytes over asynchronously: read until all came, or 1 s of silence. */
	for (n = 0; n < (ssize_t)sizeof(want) - 1;) {
		struct pollfd p = { .fd = m, .events = POLLIN };
		ssize_t k;

		if (poll(&p, 1, 1000) != 1)
			break;
		k = read(m, buf + n, sizeof(buf) - (size_t)n);
		if (k <= 0)
			break;
		n += k;
	}
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(buf, want, sizeof(want) - 1);
	close(sl);
	close(m);
}

/* A file or a pipe gets the guest's bytes as they are (logs, tests). */
static void tx_to_pipe_unfiltered(void **state)
{
	static const char in[] = "a\033]0;t\007b";
	struct serial_config cfg = { .name = "com1" };
	struct serial s;
	char buf[32];
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	cfg.tx_fd = fds[1];
	assert_int_equal(serial_init(&s, &cfg), 0);
	guest_out(&s, in, sizeof(in) - 1);
	serial_exit(&s);
	close(fds[1]);
	assert_int_equal(read(fds[0], buf, sizeof(buf)), sizeof(in) - 1);
	assert_memory_equal(buf, in, sizeof(in) - 1);
	close(fds[0]);
}

static void rx_in_order(void **state)
{
	struct ctx *c = *state;

	out8(c, FCR, 0x01);
	assert_int_equal(serial_rx(&c->s, (const uint8_t *)"abc", 3), 3);
	assert_int_equal(in8(c, LSR) & 0x01, 0x01);
	assert_int_equal(in8(c, RBR), 'a');
	assert_int_equal(in8(c, RBR), 'b');
	assert_int_equal(in8(c, LSR) & 0x01, 0x01);
	assert_int_equal(in8(c, RBR), 'c');
	assert_int_equal(in8(c, LSR) & 0x01, 0x00);
	assert_int_equal(in8(c, RBR), 0);	/* empty */
	assert_false(room_signalled(c));	/* nothing was ever refused */
}

static void rx_partial_when_full(void **state)
{
	struct ctx *c = *state;
	uint8_t buf[20];
	unsigned i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	/* FIFOs off: a 16450's single holding register. */
	assert_int_equal(serial_rx(&c->s, buf, 2), 1);
	assert_false(room_signalled(c));
	assert_int_equal(in8(c, RBR), 0);
	assert_true(room_signalled(c));

	out8(c, FCR, 0x01);
	assert_int_equal(serial_rx(&c->s, buf, sizeof(buf)), 16);
	assert_int_equal(serial_rx(&c->s, buf + 16, 4), 0);
	assert_false(room_signalled(c));
	assert_int_equal(in8(c, LSR) & 0x03, 0x01);	/* DR, and no OE: nothing lost */
	assert_int_equal(in8(c, RBR), 0);
	assert_true(room_signalled(c));
	assert_false(room_signalled(c));		/* once per refusal */
	assert_int_equal(serial_rx(&c->s, buf + 16, 4), 1);
	for (i = 1; i <= 16; i++)
		assert_int_equal(in8(c, RBR), i);
	assert_true(room_signalled(c));
}

static void fifo_reset_and_iir_fifo_bits(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(in8(c, IIR), 0x01);		/* 16450 mode */
	out8(c, FCR, 0x01);
	assert_int_equal(in8(c, IIR), 0xc1);		/* "16550A" to autoconfig() */
	assert_int_equal(serial_rx(&c->s, (const uint8_t *)"ab", 2), 2);
	out8(c, FCR, 0x03);				/* clear RX FIFO */
	assert_int_equal(in8(c, LSR) & 0x01, 0);
	assert_int_equal(serial_rx(&c->s, (const uint8_t *)"ab", 2), 2);
	out8(c, FCR, 0x00);				/* FIFOs off: emptied too */
	assert_int_equal(in8(c, LSR) & 0x01, 0);
	assert_int_equal(in8(c, IIR), 0x01);
}

static void overflow_sets_oe(void **state)
{
	struct ctx *c = *state;
	unsigned i;

	out8(c, FCR, 0x01);
	out8(c, MCR, 0x10);				/* loopback */
	out8(c, IER, 0x04);				/* ELSI */
	for (i = 0; i < 17; i++)
		out8(c, THR, (uint8_t)('A' + i));
	assert_int_equal(c->nout, 0);
	assert_int_equal(in8(c, IIR), 0xc6);		/* receiver line status */
	assert_int_equal(in8(c, LSR) & 0x03, 0x03);	/* DR, OE */
	assert_int_equal(in8(c, LSR) & 0x03, 0x01);	/* the read cleared OE */
	assert_int_equal(in8(c, IIR), 0xc1);
	for (i = 0; i < 16; i++)
		assert_int_equal(in8(c, RBR), 'A' + i);	/* the 17th was dropped */
	assert_int_equal(in8(c, LSR) & 0x01, 0);
}

static void iir_priorities(void **state)
{
	struct ctx *c = *state;

	out8(c, FCR, 0x01);
	out8(c, IER, 0x03);				/* ERBFI, ETBEI */
	assert_int_equal(serial_rx(&c->s, (const uint8_t *)"xy", 2), 2);
	assert_int_equal(in8(c, IIR), 0xc4);		/* RX data before THRE */
	assert_int_equal(in8(c, IIR), 0xc4);		/* ...and that read kept THRE */
	in8(c, RBR);
	assert_int_equal(in8(c, IIR), 0xc4);		/* level while data remains */
	in8(c, RBR);
	assert_int_equal(in8(c, IIR), 0xc2);
	assert_int_equal(in8(c, IIR), 0xc1);
}

static void iir_read_clears_thre(void **state)
{
	struct ctx *c = *state;

	out8(c, IER, 0x02);
	assert_int_equal(in8(c, IIR), 0x02);
	assert_int_equal(in8(c, IIR), 0x01);
	/* Linux's THRE test: IER 0 then ETBEI again must re-raise THRE. */
	out8(c, IER, 0x00);
	out8(c, IER, 0x02);
	assert_int_equal(in8(c, IIR), 0x02);
	/* A THR write clears THRE; the sent byte leaves THR empty: raised again. */
	out8(c, THR, '.');
	assert_int_equal(in8(c, IIR), 0x02);
	assert_int_equal(in8(c, IIR), 0x01);
	out8(c, IER, 0x02);				/* no 0 -> 1 change: stays clear */
	assert_int_equal(in8(c, IIR), 0x01);
}

static void irq_edges_only(void **state)
{
	struct ctx *c = *state;
	static const int want[] = { 1, 0, 1, 0, 1, 0, 1 };

	out8(c, IER, 0x02);				/* 1: THRE */
	out8(c, IER, 0x02);
	in8(c, IIR);					/* 0: THRE taken */
	assert_int_equal(serial_rx(&c->s, (const uint8_t *)"a", 1), 1);
	assert_int_equal(c->nirq, 2);			/* ERBFI still off */
	out8(c, IER, 0x03);				/* 1: RX data */
	out8(c, FCR, 0x01);				/* 0: FIFO enable emptied it */
	assert_int_equal(serial_rx(&c->s, (const uint8_t *)"bc", 2), 2);	/* 1 */
	assert_int_equal(serial_rx(&c->s, (const uint8_t *)"d", 1), 1);
	in8(c, RBR);
	in8(c, RBR);
	in8(c, LSR);
	assert_int_equal(c->nirq, 5);
	in8(c, RBR);					/* 0: drained */
	out8(c, THR, '!');				/* 1: THRE again */
	assert_int_equal(c->nirq, ARRAY_SIZE(want));
	assert_memory_equal(c->levels, want, sizeof(want));
	out8(c, THR, '!');				/* a pulse: 0 then 1 */
	assert_int_equal(c->nirq, ARRAY_SIZE(want) + 2);
	assert_int_equal(c->levels[c->nirq - 2], 0);
	assert_int_equal(c->levels[c->nirq - 1], 1);
}

static void loopback_mode(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(in8(c, MSR), 0xb0);		/* DCD, DSR, CTS: far end ready */
	out8(c, FCR, 0x01);
	out8(c, MCR, 0x1a);				/* LOOP | OUT2 | RTS */
	assert_int_equal(in8(c, MSR) & 0xf0, 0x90);	/* DCD, CTS: autoconfig()'s test */
	out8(c, MCR, 0x15);				/* LOOP | OUT1 | DTR */
	assert_int_equal(in8(c, MSR) & 0xf0, 0x60);	/* RI, DSR */
	out8(c, THR, 'z');
	assert_int_equal(c->nout, 0);			/* looped, not sent */
	assert_int_equal(in8(c, LSR) & 0x01, 0x01);
	assert_int_equal(in8(c, RBR), 'z');
	/* The receiver is disconnected: host input waits for loop mode to end. */
	assert_int_equal(serial_rx(&c->s, (const uint8_t *)"q", 1), 0);
	assert_false(room_signalled(c));
	out8(c, MCR, 0x0b);
	assert_int_equal(in8(c, MSR) & 0xf0, 0xb0);
	assert_true(room_signalled(c));
	assert_int_equal(serial_rx(&c->s, (const uint8_t *)"q", 1), 1);
	out8(c, THR, 'w');
	assert_int_equal(c->nout, 1);
	assert_int_equal(in8(c, RBR), 'q');
}

static void modem_status_deltas(void **state)
{
	struct ctx *c = *state;

	out8(c, IER, 0x08);				/* EDSSI */
	assert_int_equal(in8(c, IIR), 0x01);
	out8(c, MCR, 0x14);				/* LOOP | OUT1: RI on, the rest off */
	assert_int_equal(in8(c, IIR), 0x00);		/* modem status */
	assert_int_equal(in8(c, MSR), 0x40 | 0x0b);	/* RI; DDCD, DDSR, DCTS */
	assert_int_equal(in8(c, MSR), 0x40);		/* the read cleared the deltas */
	assert_int_equal(in8(c, IIR), 0x01);
	out8(c, MCR, 0x10);				/* RI off: trailing edge */
	assert_int_equal(in8(c, MSR), 0x04);		/* TERI */
	out8(c, MCR, 0x14);				/* RI on: no TERI */
	assert_int_equal(in8(c, MSR), 0x40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(divisor_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(scratch_and_masks, setup, teardown),
		cmocka_unit_test_setup_teardown(tx_reaches_output, setup, teardown),
		cmocka_unit_test(tx_to_fd),
		cmocka_unit_test(tx_to_terminal_filtered),
		cmocka_unit_test(tx_to_pipe_unfiltered),
		cmocka_unit_test_setup_teardown(rx_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(rx_partial_when_full, setup, teardown),
		cmocka_unit_test_setup_teardown(fifo_reset_and_iir_fifo_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(overflow_sets_oe, setup, teardown),
		cmocka_unit_test_setup_teardown(iir_priorities, setup, teardown),
		cmocka_unit_test_setup_teardown(iir_read_clears_thre, setup, teardown),
		cmocka_unit_test_setup_teardown(irq_edges_only, setup, teardown),
		cmocka_unit_test_setup_teardown(loopback_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(modem_status_deltas, setup, teardown),
	};
	return cmocka_run_group_tests_name("serial", tests, NULL, NULL);
}
