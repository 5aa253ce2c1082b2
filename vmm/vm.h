/*
 * sluice: a KVM virtual machine. Everything hangs off struct vm; two can
 * exist in one process. vm_create() opens every host resource (so a later
 * jail can follow without touching the run loop), vm_start() runs the vCPU
 * threads, vm_destroy() undoes vm_create() in exact reverse order.
 */
#ifndef SLUICE_VM_H
#define SLUICE_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "irqremap/irqremap.h"
#include "vmm/bus.h"
#include "vmm/evloop.h"
#include "vmm/memory.h"
#include "vmm/pci.h"
#include "vmm/pm.h"
#include "vmm/serial.h"

#define VM_MAX_CPUS 255	/* xAPIC IDs in the MADT are 8 bits; 0xff is broadcast */

/* Why a VM stopped; the first reason wins. See README.md "Exit status". */
enum vm_stop {
	VM_RUNNING,
	VM_STOP_POWEROFF,	/* guest powered off (ACPI S5) */
	VM_STOP_RESET,		/* guest rebooted, or triple-faulted */
	VM_STOP_PANIC,		/* guest kernel panicked (pvpanic) */
	VM_STOP_QUIT,		/* the user pressed the escape key */
	VM_STOP_SIGNAL,		/* SIGINT/SIGTERM/SIGHUP */
	VM_STOP_ERROR,		/* a vCPU could not go on */
};

struct vm_config {
	const char *name;
	unsigned nr_cpus;
	uint64_t mem_size;
	bool hugepages;
	int console_fd;		/* serial output */
};

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	uint64_t user_io, user_mmio;	/* exits sluice itself handled (vCPU thread only) */
};

struct vm {
	const char *name;
	int kvm_fd;
	int vm_fd;
	size_t run_size;
	struct kvm_cpuid2 *cpuid;	/* KVM's supported set, filtered per vCPU */
	struct guest_mem mem;
	struct bus pio, mmio;
	struct pci_host pci;
	struct serial com1;
	struct pm pm;
	struct vcpu *vcpus;
	unsigned nr_vcpus;		/* created so far */
	unsigned topo_cpus;		/* configured: what CPUID reports */
	int stop_fd;			/* eventfd: readable once a stop is requested */
	_Atomic int stop;		/* enum vm_stop */
	struct evloop ev;		/* the main thread's fds (console, devices) */
	struct route_table routes;	/* GSI routing: the irqchip's pins + MSI routes */
	bool routes_ready;
	pthread_mutex_t slot_lock;	/* memslot allocation, from any thread */
	uint64_t slot_used[8];		/* bitmap; slots 0-1 are RAM */
	unsigned nr_slots;		/* KVM_CAP_NR_MEMSLOTS, at most 512 */
};

/* Host limits, for validating a configuration before anything is created. */
int vm_kvm_open(void);
int vm_max_cpus(int kvm_fd);

/* Takes ownership of @kvm_fd. 0 or -errno, with a message. */
int vm_create(struct vm *vm, int kvm_fd, const struct vm_config *cfg);
void vm_destroy(struct vm *vm);

/* Put the boot vCPU at the kernel's entry (vmm/boot.h's struct boot_entry). */
struct boot_entry;
int vm_set_boot_entry(struct vm *vm, const struct boot_entry *e);

int vm_start(struct vm *vm);
/* Request a stop (any thread, async-signal-safe); the first reason sticks. */
void vm_request_stop(struct vm *vm, enum vm_stop why);
/* Stop and join every vCPU thread; returns the stop reason. */
enum vm_stop vm_join(struct vm *vm);

/*
 * Map @size bytes at host @hva as guest physical @gpa (a passthrough BAR).
 * Returns the slot number or -errno (-ENOSPC when KVM has no free slot).
 */
int vm_memslot_add(struct vm *vm, uint64_t gpa, uint64_t size, void *hva);
void vm_memslot_del(struct vm *vm, int slot);

/* Print KVM's exit counters and sluice's own, summed over vCPUs (after vm_join). */
void vm_print_stats(struct vm *vm);

/* vmm/vcpu.c */
int vcpu_create(struct vm *vm, struct vcpu *v, unsigned id);
void vcpu_destroy(struct vcpu *v);
int vcpu_start(struct vcpu *v);
void vcpu_kick(struct vcpu *v);

#endif
