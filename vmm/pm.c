/* sluice: power off, reset and panic signals from the guest. */
#include <string.h>

#include "vmm/layout.h"
#include "vmm/log.h"
#include "vmm/pm.h"

/* ACPI 6.5 §4.8.3.2.1 (PM1 control): SCI_EN bit 0, SLP_TYP bits 12:10, SLP_EN bit 13 */
#define PM1_CNT_SCI_EN		(1u << 0)
#define PM1_CNT_SLP_TYP(v)	(((v) >> 10) & 7)
#define PM1_CNT_SLP_EN		(1u << 13)

/* Intel ICH "Reset Control Register" at 0xcf9: bit 2 resets the CPU. */
#define RST_CNT_RST_CPU		(1u << 2)
#define I8042_CMD_RESET		0xfe

int pm_init(struct pm *pm, const char *name, void (*stop)(void *, enum pm_event), void *opaque)
{
	memset(pm, 0, sizeof(*pm));
	pm->name = name;
	pm->stop = stop;
	pm->opaque = opaque;
	/* SMI_CMD is 0 in the FADT: the platform is always in ACPI mode. */
	pm->pm1_cnt = PM1_CNT_SCI_EN;
	return -pthread_mutex_init(&pm->lock, NULL);
}

void pm_exit(struct pm *pm)
{
	pthread_mutex_destroy(&pm->lock);
}

static uint16_t get16(const uint8_t *d, uint32_t len)
{
	return len >= 2 ? (uint16_t)(d[0] | d[1] << 8) : d[0];
}

static void put(uint8_t *d, uint32_t len, uint32_t v)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

/* PM1a_EVT: status (RW1C) at +0, enable at +2. No event is ever raised. */
void pm_evt_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct pm *pm = opaque;
	uint16_t *reg = off < 2 ? &pm->pm1_sts : &pm->pm1_en;

	pthread_mutex_lock(&pm->lock);
	if (!is_write)
		put(data, len, *reg);
	else if (reg == &pm->pm1_sts)
		pm->pm1_sts &= (uint16_t)~get16(data, len);
	else
		pm->pm1_en = get16(data, len);
	pthread_mutex_unlock(&pm->lock);
}

void pm_cnt_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct pm *pm = opaque;
	uint16_t v;

	(void)off;
	if (!is_write) {
		pthread_mutex_lock(&pm->lock);
		put(data, len, pm->pm1_cnt);
		pthread_mutex_unlock(&pm->lock);
		return;
	}
	v = get16(data, len);
	pthread_mutex_lock(&pm->lock);
	pm->pm1_cnt = (uint16_t)((v & ~PM1_CNT_SLP_EN) | PM1_CNT_SCI_EN);
	pthread_mutex_unlock(&pm->lock);
	if (!(v & PM1_CNT_SLP_EN))
		return;
	if (PM1_CNT_SLP_TYP(v) == LAYOUT_SLP_TYP_S5)
		pm->stop(pm->opaque, PM_POWEROFF);
	else
		pr_warn_rl("%s: guest asked for sleep state type %u; only S5 (power off) exists",
			pm->name, PM1_CNT_SLP_TYP(v));
}

void pm_reset_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct pm *pm = opaque;

	(void)off;
	(void)len;
	if (!is_write) {
		data[0] = 0;
		return;
	}
	if (data[0] & RST_CNT_RST_CPU)
		pm->stop(pm->opaque, PM_RESET);
}

/* Only the 8042's reset command is modelled; the FADT says there is no 8042. */
void pm_i8042_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct pm *pm = opaque;

	(void)off;
	if (!is_write) {
		put(data, len, 0);	/* input and output buffers empty */
		return;
	}
	if (data[0] == I8042_CMD_RESET)
		pm->stop(pm->opaque, PM_RESET);
}

void pm_pvpanic_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct pm *pm = opaque;

	(void)off;
	if (!is_write) {
		put(data, len, PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
		return;
	}
	if (data[0] & PVPANIC_PANICKED)
		pm->stop(pm->opaque, PM_PANIC);
	else if (data[0] & PVPANIC_CRASH_LOADED)
		pr_info_rl("%s: guest loaded a crash kernel after a panic", pm->name);
}
