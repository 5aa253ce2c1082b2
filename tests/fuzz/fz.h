/*
 * sluice fuzzing: helpers shared by the libFuzzer harnesses in tests/fuzz/.
 *
 * A harness reads its input as a stream of little fields (fz_u8 ...); a
 * stream that runs out reads zeros, so every input is a valid program.
 *
 * Where sluice's code needs a struct vm, fz_vm_init builds the smallest one
 * that opens nothing of the host's: no /dev/kvm (vm_fd and kvm_fd are -1, so
 * every KVM ioctl fails with EBADF and sluice takes its error path), an
 * epoll event loop, the GSI routing table, the PIO/MMIO buses and the PCI
 * host. Guest RAM is a plain heap buffer of exactly its size, so ASan sees
 * any access past it.
 */
#ifndef SLUICE_TESTS_FZ_H
#define SLUICE_TESTS_FZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irqremap/irqremap.h"
#include "vmm/vm.h"

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz *f)
{
	uint8_t v = 0;

	if (f->n) {
		v = *f->p++;
		f->n--;
	}
	return v;
}

static inline uint16_t fz_u16(struct fz *f)
{
	return (uint16_t)(fz_u8(f) | fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	return fz_u16(f) | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t fz_u64(struct fz *f)
{
	return fz_u32(f) | (uint64_t)fz_u32(f) << 32;
}

/* Up to @len bytes into @buf (the rest zeroed); how many came from the input. */
static inline size_t fz_bytes(struct fz *f, void *buf, size_t len)
{
	size_t k = len < f->n ? len : f->n;

	memcpy(buf, f->p, k);
	memset((uint8_t *)buf + k, 0, len - k);
	f->p += k;
	f->n -= k;
	return k;
}

/* A harness's own assertion: report on stdout (stderr may be closed) and crash. */
#define fz_assert(cond, ...)                                                   \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("fz: %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
			fflush(stdout);                                        \
			abort();                                               \
		}                                                              \
	} while (0)

/* The machine around the devices, with @ram_size bytes of heap RAM (0: none). */
static inline void fz_vm_init(struct vm *vm, unsigned nr_cpus, uint64_t ram_size)
{
	memset(vm, 0, sizeof(*vm));
	vm->name = "fuzz";
	vm->kvm_fd = vm->vm_fd = vm->stop_fd = -1;
	vm->topo_cpus = nr_cpus;
	vm->mem.fd = -1;
	if (ram_size) {
		uint8_t *ram = calloc(1, ram_size);

		fz_assert(ram, "no memory for guest RAM");
		guest_mem_layout(&vm->mem, ram, ram_size);
	}
	fz_assert(!ev_init(&vm->ev), "epoll");
	fz_assert(!route_table_init(&vm->routes, 0), "route table");
	vm->routes_ready = true;
	fz_assert(!bus_init(&vm->pio, "pio") && !bus_init(&vm->mmio, "mmio"), "buses");
	fz_assert(!pci_host_init(&vm->pci, &vm->pio, &vm->mmio, ram_size ? ram_size : GiB),
		  "pci host");
}

static inline void fz_vm_exit(struct vm *vm)
{
	pci_host_exit(&vm->pci);
	bus_exit(&vm->mmio);
	bus_exit(&vm->pio);
	route_table_destroy(&vm->routes);
	ev_exit(&vm->ev);
	if (vm->mem.nr_regions)
		free(vm->mem.region[0].hva);
}

/*
 * The property behind every MSI path: a message that reaches KVM's routing
 * table (route_set_msi) targets this guest's own local APICs. FZ_DEBUG=1 in
 * the environment prints the routed ones (does a seed reach routing?).
 */
static inline void fz_check_routes(struct vm *vm)
{
	unsigned i;

	for (i = 0; i < vm->routes.nr_pool; i++) {
		const struct route_msi *s = &vm->routes.pool[i];

		if (s->routed && getenv("FZ_DEBUG"))
			printf("routed gsi %u %#x data %#x\n", i, s->msg.addr_lo, s->msg.data);
		if (s->routed)
			fz_assert(msi_check(&s->msg, vm->topo_cpus) == MSI_OK,
				  "GSI %u routed to %#x:%#x data %#x (%s)", ROUTE_GSI_FIRST_MSI + i,
				  s->msg.addr_hi, s->msg.addr_lo, s->msg.data,
				  msi_verdict_name(msi_check(&s->msg, vm->topo_cpus)));
	}
}

/* Run the main thread's event loop until nothing is ready (masked vectors' eventfds). */
static inline void fz_vm_poll(struct vm *vm)
{
	unsigned i;

	for (i = 0; i < 8; i++)
		if (ev_run_once(&vm->ev, 0) < 0)
			break;
}

#endif
