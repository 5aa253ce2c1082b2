/*
 * sluice: a 16550A UART, as Linux's 8250 driver probes and drives it
 * (drivers/tty/serial/8250/8250_port.c autoconfig() and the THRE test in
 * serial8250_do_startup()). Register names and bits follow the TI PC16550D
 * datasheet; Linux's include/uapi/linux/serial_reg.h uses the same names.
 *
 * The model: the transmitter is infinitely fast (every THR write leaves at
 * once, so LSR.THRE and LSR.TEMT always read 1); the receiver has a 16-byte
 * FIFO (1 byte while FCR.FIFOE is clear), the size of a real 16550A: Linux
 * counts it in size_fifo() and would call a 64-byte FIFO a "U6_16550A". The
 * RX data interrupt is level while the FIFO holds data, whatever the
 * trigger level; no character timeout. MCR.OUT2 does not gate the interrupt
 * (QEMU neither; Linux sets it anyway).
 *
 * Locking: vCPU threads call serial_io() while an input thread calls
 * serial_rx(); both take the device's mutex. The callbacks in struct
 * serial_config run with that mutex held (so interrupt levels and output
 * bytes stay in order across vCPUs): they must not call back into serial_*.
 */
#ifndef SLUICE_SERIAL_H
#define SLUICE_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/console_filter.h"

#define SERIAL_NR_PORTS		8	/* bus_register(&pio, LAYOUT_PORT_COM1, 8, ...) */
#define SERIAL_FIFO_SIZE	16

struct serial_config {
	const char *name;	/* for messages: "com1" */
	/*
	 * The interrupt line's level, called only when it changes. The caller
	 * passes it to KVM_IRQ_LINE as is (ISA IRQ 4 for COM1): a THR write
	 * lowers then raises the line, so an edge-triggered IOAPIC pin gets a
	 * fresh edge for each THRE interrupt, and a level-triggered one works.
	 * NULL: no interrupt line.
	 */
	void (*set_irq)(void *opaque, int level);
	/* A transmitted byte; NULL to write it to @tx_fd instead. */
	void (*tx)(void *opaque, uint8_t byte);
	int tx_fd;		/* used when @tx is NULL; -1 drops output; a terminal gets
				   the output through vmm/console_filter.h */
	void *opaque;		/* for @set_irq and @tx */
};

struct serial {
	pthread_mutex_t lock;
	struct serial_config cfg;
	int room_fd;		/* eventfd, see serial_rx_room_fd() */
	uint8_t rx_fifo[SERIAL_FIFO_SIZE];
	unsigned rx_head, rx_count;
	uint8_t ier, lcr, mcr, fcr, scr, dll, dlm;
	uint8_t lsr_err;	/* LSR.OE: the only error bit this model raises */
	uint8_t msr;
	bool thr_ipending;	/* THRE interrupt pending, cleared by an IIR read */
	bool rx_blocked;	/* serial_rx() refused bytes: signal room_fd */
	bool tx_failed;		/* @tx_fd failed once: drop output, say so once */
	bool tx_filtered;	/* @tx_fd is a terminal: output through tx_filter */
	struct console_filter tx_filter;
	int irq_level;
};

/*
 * Reset the UART (the datasheet's "UART Reset Configuration" table) and
 * create its room eventfd. @cfg is copied; cfg->name must outlive the UART. 0 or -errno.
 */
int serial_init(struct serial *s, const struct serial_config *cfg);
void serial_exit(struct serial *s);

/*
 * The port I/O callback (bus_io_fn), @opaque being the struct serial:
 * bus_register(&pio, LAYOUT_PORT_COM1, SERIAL_NR_PORTS, serial_io, s, "com1").
 * A wider access is split into byte accesses, as on an ISA bus.
 */
void serial_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

/*
 * Received bytes from the host side. Returns how many were accepted: those
 * that fit in the RX FIFO; none while the guest holds the UART in loopback
 * (its receiver is disconnected then). Nothing is lost: the caller keeps the
 * rest, and the UART never sets LSR.OE for them (think of it as hardware
 * flow control). When fewer than @len were accepted, serial_rx_room_fd()
 * becomes readable once there is room again.
 */
size_t serial_rx(struct serial *s, const uint8_t *buf, size_t len);

/*
 * An eventfd (non-blocking, close-on-exec) the input thread polls while it
 * holds bytes that serial_rx() refused. Readable once the guest has made
 * room after such a refusal; the caller read()s it to rearm, then retries.
 */
int serial_rx_room_fd(const struct serial *s);

#endif
