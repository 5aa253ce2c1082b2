/*
 * sluice: the platform's power and reset controls, as the ACPI tables
 * (vmm/acpi.c) advertise them: PM1a event and control blocks (S5 = power
 * off), the FADT reset register at 0xcf9, the 8042 reset line (0x64 <- 0xfe,
 * Linux's fallback) and QEMU's pvpanic ISA port. Each ends the run through
 * the @stop callback with the reason.
 */
#ifndef SLUICE_PM_H
#define SLUICE_PM_H

#include <pthread.h>
#include <stdint.h>

#include "vmm/bus.h"

enum pm_event {
	PM_POWEROFF,
	PM_RESET,
	PM_PANIC,
};

struct pm {
	pthread_mutex_t lock;
	uint16_t pm1_sts, pm1_en, pm1_cnt;
	void (*stop)(void *opaque, enum pm_event ev);
	void *opaque;
	const char *name;	/* the VM's, for messages */
};

/* pvpanic event bits (QEMU docs/specs/pvpanic.rst) */
#define PVPANIC_PANICKED	(1u << 0)
#define PVPANIC_CRASH_LOADED	(1u << 1)

int pm_init(struct pm *pm, const char *name, void (*stop)(void *, enum pm_event), void *opaque);
void pm_exit(struct pm *pm);

/* bus_io_fn callbacks, @opaque = struct pm */
void pm_evt_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write);
void pm_cnt_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write);
void pm_reset_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write);
void pm_i8042_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write);
void pm_pvpanic_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write);

#endif
