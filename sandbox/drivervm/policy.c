/* sluice: what a driver-VM supervisor decides, as pure functions of events and time (dvm.h). */
#include <signal.h>
#include <string.h>

#include "sandbox/drivervm/dvm.h"
#include "vmm/machine.h"

const char *dvm_fail_name(enum dvm_fail f)
{
	static const char *const names[] = {
		[DVM_FAIL_NONE] = "none", [DVM_FAIL_EXIT] = "exit", [DVM_FAIL_PANIC] = "panic",
		[DVM_FAIL_CRASH] = "crash", [DVM_FAIL_HANG] = "hang", [DVM_FAIL_BOOT] = "boot",
	};

	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
}

const char *dvm_state_name(enum dvm_state s)
{
	static const char *const names[] = {
		[DVM_OFF] = "off", [DVM_BOOTING] = "booting", [DVM_UP] = "up",
		[DVM_DOWN] = "down", [DVM_GONE] = "gone",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

enum dvm_fail dvm_fail_of_status(int status)
{
	if (status == MACHINE_EXIT_PANIC)
		return DVM_FAIL_PANIC;
	if (status > 128)
		return DVM_FAIL_CRASH;
	if (status == MACHINE_EXIT_USAGE)
		return DVM_FAIL_BOOT;	/* the VMM refused what it was given: it never ran */
	return DVM_FAIL_EXIT;
}

void dvm_policy_init(struct dvm_policy *p, const struct dvm_timing *t, unsigned nr_slots)
{
	memset(p, 0, sizeof(*p));
	p->t = *t;
	p->nr_slots = nr_slots;
}

uint64_t dvm_backoff_ms(unsigned fails)
{
	uint64_t ms = DVM_BACKOFF_MIN_MS;

	while (fails-- > 1 && ms < DVM_BACKOFF_MAX_MS)
		ms *= 2;
	return ms < DVM_BACKOFF_MAX_MS ? ms : DVM_BACKOFF_MAX_MS;
}

void dvm_policy_started(struct dvm_policy *p, unsigned slot, uint64_t now)
{
	struct dvm_slot_state *s = &p->s[slot];

	s->state = DVM_BOOTING;
	s->started = now;
	s->up_since = s->last_answer = 0;
}

static unsigned other(const struct dvm_policy *p, unsigned slot)
{
	return p->nr_slots == DVM_SLOTS ? 1 - slot : slot;
}

unsigned dvm_policy_answered(struct dvm_policy *p, unsigned slot, uint64_t now)
{
	struct dvm_slot_state *s = &p->s[slot];
	unsigned act = 0;

	if (s->state != DVM_BOOTING && s->state != DVM_UP)
		return 0;	/* a late answer from a VMM already counted as failed */
	s->last_answer = now;
	if (s->state == DVM_BOOTING) {
		s->state = DVM_UP;
		s->up_since = now;
		act |= DVM_BECAME_UP;
		/*
		 * A spare that comes up while the active one is out (failed, and not
		 * back yet) takes over at once; at the start, the primary keeps its port.
		 */
		if (slot != p->active && p->s[p->active].state != DVM_UP &&
		    (p->outage_from || p->s[p->active].state == DVM_DOWN || p->s[p->active].state == DVM_GONE)) {
			p->active = slot;
			p->failovers++;
			act |= DVM_DO_FAILOVER;
		}
	}
	if (slot == p->active && p->outage_from) {
		p->last_outage_ms = now - p->outage_from;
		p->outage_from = 0;
	}
	return act;
}

enum dvm_fail dvm_policy_overdue(const struct dvm_policy *p, unsigned slot, uint64_t now)
{
	const struct dvm_slot_state *s = &p->s[slot];

	if (s->state == DVM_BOOTING && now - s->started >= p->t.boot_ms)
		return DVM_FAIL_BOOT;
	if (s->state == DVM_UP && now - s->last_answer > p->t.probe_ms * p->t.misses)
		return DVM_FAIL_HANG;
	return DVM_FAIL_NONE;
}

unsigned dvm_policy_failed(struct dvm_policy *p, unsigned slot, enum dvm_fail why, uint64_t now)
{
	struct dvm_slot_state *s = &p->s[slot];
	unsigned act = 0, o = other(p, slot);
	uint64_t seen = s->last_answer ? s->last_answer : s->started;

	if (s->state == DVM_UP && now - s->up_since >= DVM_STABLE_MS)
		s->fails = 0;
	s->fails++;
	p->last_fail = why;
	p->last_fail_slot = slot;
	p->last_fail_at = now;
	p->last_detect_ms = now - seen;
	if (slot == p->active && !p->outage_from)
		p->outage_from = seen;
	if (slot == p->active && o != slot && p->s[o].state == DVM_UP) {
		p->active = o;
		p->failovers++;
		act |= DVM_DO_FAILOVER;
	}
	if (s->fails > p->t.restart_limit) {
		s->state = DVM_GONE;
		if (o == slot || p->s[o].state == DVM_GONE || p->s[o].state == DVM_OFF)
			return act | DVM_DO_STOP;
		/* The other driver VM serves, or is on its way: go on with that one alone. */
		if (slot == p->active) {
			p->active = o;
			p->failovers++;
			act |= DVM_DO_FAILOVER;
		}
		return act | DVM_DO_DROP;
	}
	s->state = DVM_DOWN;
	s->restart_at = now + dvm_backoff_ms(s->fails);
	p->restarts++;
	return act | DVM_DO_RESTART;
}

bool dvm_policy_restart_due(const struct dvm_policy *p, unsigned slot, uint64_t now)
{
	return p->s[slot].state == DVM_DOWN && now >= p->s[slot].restart_at;
}

void dvm_downlink_mac(const char *bridge, uint32_t addr, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a, 64 bits */
	const uint8_t *a = (const uint8_t *)&addr;
	unsigned i;

	for (; *bridge; bridge++)
		h = (h ^ (uint8_t)*bridge) * 0x100000001b3ull;
	for (i = 0; i < 4; i++)
		h = (h ^ a[i]) * 0x100000001b3ull;
	mac[0] = 0x02;			/* unicast, locally administered (IEEE 802 U/L bit) */
	for (i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
}
