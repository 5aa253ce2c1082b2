/* sluice: 16550A UART. Section names refer to the TI PC16550D datasheet. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/console_filter.h"
#include "vmm/serial.h"

_Static_assert(__builtin_types_compatible_p(__typeof__(&serial_io), bus_io_fn),
	       "serial_io must be a bus_io_fn");

/* Register offsets; DLAB (LCR bit 7) turns 0 and 1 into DLL and DLM. */
enum { REG_RBR_THR, REG_IER, REG_IIR_FCR, REG_LCR, REG_MCR, REG_LSR, REG_MSR, REG_SCR };

#define IER_ERBFI	0x01	/* received data available */
#define IER_ETBEI	0x02	/* THR empty */
#define IER_ELSI	0x04	/* receiver line status */
#define IER_EDSSI	0x08	/* modem status */
#define IER_MASK	0x0f	/* bits 7:4 read 0 (Linux's XScale UUE probe relies on it) */

#define IIR_NONE	0x01
#define IIR_MSI		0x00
#define IIR_THRE	0x02
#define IIR_RDA		0x04
#define IIR_RLS		0x06
#define IIR_FIFO	0xc0	/* both bits set when FCR.FIFOE: "16550A" to autoconfig() */

#define FCR_FIFOE	0x01
#define FCR_RX_RESET	0x02
#define FCR_KEEP	0xc9	/* RX trigger, DMA mode, FIFOE: the bits FCR holds */

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_DELTA	0x0f
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80
/* No modem: a null-modem cable with the far end ready, so probes pass. */
#define MSR_LINES_UP	(MSR_DCD | MSR_DSR | MSR_CTS)

static bool loopback(const struct serial *s)
{
	return s->mcr & MCR_LOOP;
}

static unsigned rx_capacity(const struct serial *s)
{
	/* "FIFO Control Register": with FIFOE clear the UART is a 16450. */
	return (s->fcr & FCR_FIFOE) ? SERIAL_FIFO_SIZE : 1;
}

/* "Interrupt Identification Register": the priority order, highest first. */
static uint8_t iir_source(const struct serial *s)
{
	if ((s->ier & IER_ELSI) && s->lsr_err)
		return IIR_RLS;
	if ((s->ier & IER_ERBFI) && s->rx_count)
		return IIR_RDA;
	if ((s->ier & IER_ETBEI) && s->thr_ipending)
		return IIR_THRE;
	if ((s->ier & IER_EDSSI) && (s->msr & MSR_DELTA))
		return IIR_MSI;
	return IIR_NONE;
}

static void update_irq(struct serial *s)
{
	int level = iir_source(s) != IIR_NONE;

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	if (s->cfg.set_irq)
		s->cfg.set_irq(s->cfg.opaque, level);
}

/* Wake an input thread that serial_rx() turned away, once it can get in. */
static void update_rx_room(struct serial *s)
{
	uint64_t one = 1;

	if (!s->rx_blocked || loopback(s) || s->rx_count >= rx_capacity(s))
		return;
	s->rx_blocked = false;
	/* Non-blocking; fails only if the counter would overflow: already readable. */
	if (write(s->room_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn_rl("%s: signalling RX room: %s", s->cfg.name, strerror(errno));
}

static void rx_reset(struct serial *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
}

static bool rx_push(struct serial *s, uint8_t byte)
{
	if (s->rx_count >= rx_capacity(s))
		return false;
	s->rx_fifo[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = byte;
	s->rx_count++;
	return true;
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t byte;

	if (!s->rx_count)
		return 0;
	byte = s->rx_fifo[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
	s->rx_count--;
	return byte;
}

/* "Line Status Register", OE: a byte arrived with no room for it. */
static void loopback_rx(struct serial *s, uint8_t byte)
{
	if (rx_push(s, byte))
		return;
	s->lsr_err |= LSR_OE;
	/* A 16450 overwrites its RBR; a 16550A's FIFO keeps the old bytes. */
	if (!(s->fcr & FCR_FIFOE))
		s->rx_fifo[s->rx_head] = byte;
}

static void tx_write(struct serial *s, const uint8_t *buf, size_t len)
{
	struct pollfd pfd = { .fd = s->cfg.tx_fd, .events = POLLOUT };
	ssize_t n = 0;

	while (len) {
		n = write(s->cfg.tx_fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		/*
		 * EINTR on a vCPU thread is the stop kick (the only signal it
		 * takes): drop the bytes, or a stdout nobody drains (a paused pager)
		 * would hold the vCPU, and this lock, forever.
		 */
		if (n < 0 && errno == EINTR)
			return;
		/* A non-blocking stdout: wait, as a UART waits for CTS. */
		if (n < 0 && errno == EAGAIN && poll(&pfd, 1, -1) >= 0)
			continue;
		if (n < 0 && errno == EINTR)
			return;
		break;
	}
	if (!len)
		return;
	s->tx_failed = true;
	pr_err("%s: writing output to fd %d: %s; dropping the rest of the output",
	       s->cfg.name, s->cfg.tx_fd, n < 0 ? strerror(errno) : "nothing written");
}

/* On a terminal, the guest's bytes pass vmm/console_filter.c first. */
static void tx_to_fd(struct serial *s, uint8_t byte)
{
	uint8_t out[CONSOLE_FILTER_OUT_MAX];
	size_t n = 1;

	if (s->cfg.tx_fd < 0 || s->tx_failed)
		return;
	out[0] = byte;
	if (s->tx_filtered)
		n = console_filter_feed(&s->tx_filter, byte, out);
	if (n)
		tx_write(s, out, n);
}

static void transmit(struct serial *s, uint8_t byte)
{
	/*
	 * "Interrupt Identification Register": writing THR clears the THRE
	 * interrupt; the byte leaves at once and THR, empty again, raises it.
	 * The line pulses low, giving an edge-triggered pin a new edge.
	 */
	s->thr_ipending = false;
	update_irq(s);
	if (loopback(s))
		loopback_rx(s, byte);
	else if (s->cfg.tx)
		s->cfg.tx(s->cfg.opaque, byte);
	else
		tx_to_fd(s, byte);
	s->thr_ipending = true;
	update_irq(s);
}

static uint8_t read_iir(struct serial *s)
{
	uint8_t src = iir_source(s);

	/*
	 * Reading IIR while it names THRE clears that interrupt: Linux's
	 * serial8250_do_startup() THRE test and serial8250_handle_irq() rely on it.
	 */
	if (src == IIR_THRE) {
		s->thr_ipending = false;
		update_irq(s);
	}
	return src | ((s->fcr & FCR_FIFOE) ? IIR_FIFO : 0);
}

static uint8_t read_lsr(struct serial *s)
{
	uint8_t v = s->lsr_err | LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);

	s->lsr_err = 0;		/* reading LSR clears the error bits */
	update_irq(s);
	return v;
}

static uint8_t read_msr(struct serial *s)
{
	uint8_t v = s->msr;

	s->msr &= ~MSR_DELTA;	/* reading MSR clears the delta bits */
	update_irq(s);
	return v;
}

static uint8_t read_rbr(struct serial *s)
{
	uint8_t v = rx_pop(s);

	update_irq(s);
	update_rx_room(s);
	return v;
}

static uint8_t reg_read(struct serial *s, unsigned reg)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR:
		return dlab ? s->dll : read_rbr(s);
	case REG_IER:
		return dlab ? s->dlm : s->ier;
	case REG_IIR_FCR:
		return read_iir(s);
	case REG_LCR:
		return s->lcr;
	case REG_MCR:
		return s->mcr;
	case REG_LSR:
		return read_lsr(s);
	case REG_MSR:
		return read_msr(s);
	default:
		return s->scr;
	}
}

static void write_ier(struct serial *s, uint8_t v)
{
	uint8_t old = s->ier;

	s->ier = v & IER_MASK;
	/*
	 * Enabling ETBEI while THR is empty (always, here) raises THRE anew:
	 * Linux's THRE test writes IER 0 then ETBEI and expects it back.
	 */
	if ((s->ier & IER_ETBEI) && !(old & IER_ETBEI))
		s->thr_ipending = true;
	update_irq(s);
}

static void write_fcr(struct serial *s, uint8_t v)
{
	uint8_t old = s->fcr;

	/*
	 * "FIFO Control Register": the other bits are programmed only along
	 * with FIFOE, and changing FIFOE empties the FIFOs.
	 */
	s->fcr = (v & FCR_FIFOE) ? (v & FCR_KEEP) : 0;
	if (((v & FCR_FIFOE) && (v & FCR_RX_RESET)) || ((old ^ s->fcr) & FCR_FIFOE))
		rx_reset(s);
	update_irq(s);
	update_rx_room(s);
}

/* "Modem Control Register", loop mode: DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD. */
static uint8_t modem_lines(const struct serial *s)
{
	uint8_t lines = 0;

	if (!loopback(s))
		return MSR_LINES_UP;
	if (s->mcr & MCR_DTR)
		lines |= MSR_DSR;
	if (s->mcr & MCR_RTS)
		lines |= MSR_CTS;
	if (s->mcr & MCR_OUT1)
		lines |= MSR_RI;
	if (s->mcr & MCR_OUT2)
		lines |= MSR_DCD;
	return lines;
}

static void write_mcr(struct serial *s, uint8_t v)
{
	uint8_t old = s->msr, lines, delta;

	s->mcr = v & MCR_MASK;
	lines = modem_lines(s);
	/* "Modem Status Register": bits 3:0 are the changes of bits 7:4... */
	delta = ((old ^ lines) & ~MSR_DELTA) >> 4;
	/* ...except TERI, set only when RI goes from on to off. */
	if (!(old & MSR_RI) || (lines & MSR_RI))
		delta &= ~MSR_TERI;
	s->msr = lines | (old & MSR_DELTA) | delta;
	update_irq(s);
	update_rx_room(s);
}

static void reg_write(struct serial *s, unsigned reg, uint8_t v)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR:
		if (dlab)
			s->dll = v;
		else
			transmit(s, v);
		break;
	case REG_IER:
		if (dlab)
			s->dlm = v;
		else
			write_ier(s, v);
		break;
	case REG_IIR_FCR:
		write_fcr(s, v);
		break;
	case REG_LCR:
		s->lcr = v;
		break;
	case REG_MCR:
		write_mcr(s, v);
		break;
	case REG_SCR:
		s->scr = v;
		break;
	default:
		break;		/* LSR and MSR: factory test writes, ignored */
	}
}

void serial_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct serial *s = opaque;
	uint32_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < len; i++) {
		if (offset >= SERIAL_NR_PORTS || i >= SERIAL_NR_PORTS - offset) {
			if (!is_write)
				data[i] = 0xff;	/* ISA bus float */
			continue;
		}
		if (is_write)
			reg_write(s, offset + i, data[i]);
		else
			data[i] = reg_read(s, offset + i);
	}
	pthread_mutex_unlock(&s->lock);
}

size_t serial_rx(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	/* "Modem Control Register": in loop mode the serial input is disconnected. */
	while (!loopback(s) && n < len && rx_push(s, buf[n]))
		n++;
	if (n < len)
		s->rx_blocked = true;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

int serial_rx_room_fd(const struct serial *s)
{
	return s->room_fd;
}

int serial_init(struct serial *s, const struct serial_config *cfg)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	err = pthread_mutex_init(&s->lock, NULL);
	if (err) {
		pr_err("%s: initialising its lock: %s", cfg->name, strerror(err));
		memset(s, 0, sizeof(*s));	/* nothing to exit: vm_destroy checks cfg.name */
		return -err;
	}
	s->room_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->room_fd < 0) {
		err = -errno;
		pr_err("%s: creating the RX room eventfd: %s", cfg->name, strerror(-err));
		goto err_destroy_lock;
	}
	/*
	 * A terminal is where guest bytes can rewrite the operator's screen or
	 * title; a file or pipe keeps them as they were (logs, the test bed).
	 */
	s->tx_filtered = !cfg->tx && cfg->tx_fd >= 0 && isatty(cfg->tx_fd);
	/* Reset values; LSR's THRE and TEMT are computed, always 1. */
	s->msr = MSR_LINES_UP;
	s->dll = 12;		/* 9600 baud from the PC's 1.8432 MHz clock */
	return 0;

err_destroy_lock:
	pthread_mutex_destroy(&s->lock);
	memset(s, 0, sizeof(*s));
	return err;
}

void serial_exit(struct serial *s)
{
	close(s->room_fd);
	pthread_mutex_destroy(&s->lock);
}
