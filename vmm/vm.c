/* sluice: the KVM VM: memory, irqchip, platform devices. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/boot.h"
#include "vmm/layout.h"
#include "vmm/log.h"
#include "vmm/stats.h"
#include "vmm/vm.h"

#define VM_CPUID_MAX		256

int vm_kvm_open(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		close(fd);
		return -ENOTSUP;
	}
	return fd;
}

int vm_max_cpus(int kvm_fd)
{
	int n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	if (n <= 0)
		n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (n <= 0)
		n = 4;	/* KVM API: "assume 4" when neither capability exists */
	return n < VM_MAX_CPUS ? n : VM_MAX_CPUS;
}

static int set_memslots(struct vm *vm)
{
	int n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	unsigned i;

	vm->nr_slots = n > 0 && n < 512 ? (unsigned)n : 512;

	for (i = 0; i < vm->mem.nr_regions; i++) {
		const struct mem_region *r = &vm->mem.region[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			pr_err("%s: KVM_SET_USER_MEMORY_REGION slot %u: %s", vm->name, i, strerror(errno));
			return -errno;
		}
		vm->slot_used[0] |= 1ull << i;
	}
	return 0;
}

static int slot_set(struct vm *vm, unsigned slot, uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uintptr_t)hva,
	};

	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

int vm_memslot_add(struct vm *vm, uint64_t gpa, uint64_t size, void *hva)
{
	unsigned slot;
	int err = -ENOSPC;

	pthread_mutex_lock(&vm->slot_lock);
	for (slot = 0; slot < vm->nr_slots; slot++)
		if (!(vm->slot_used[slot / 64] & (1ull << (slot % 64))))
			break;
	if (slot < vm->nr_slots) {
		err = slot_set(vm, slot, gpa, size, hva);
		if (!err)
			vm->slot_used[slot / 64] |= 1ull << (slot % 64);
	}
	pthread_mutex_unlock(&vm->slot_lock);
	return err ? err : (int)slot;
}

/* A slot of size 0 deletes it (KVM API, KVM_SET_USER_MEMORY_REGION). */
void vm_memslot_del(struct vm *vm, int slot)
{
	pthread_mutex_lock(&vm->slot_lock);
	if (!slot_set(vm, (unsigned)slot, 0, 0, NULL))
		vm->slot_used[slot / 64] &= ~(1ull << (slot % 64));
	pthread_mutex_unlock(&vm->slot_lock);
}

static int create_irqchip(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, LAYOUT_TSS) < 0)
		goto err;
	{
		uint64_t idmap = LAYOUT_IDENTITY_MAP;

		if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
			goto err;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		goto err;
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		goto err;
	return 0;
err:
	pr_err("%s: creating the in-kernel irqchip and PIT: %s", vm->name, strerror(errno));
	return -errno;
}

static int get_cpuid(struct vm *vm)
{
	vm->cpuid = calloc(1, sizeof(*vm->cpuid) + VM_CPUID_MAX * sizeof(vm->cpuid->entries[0]));
	if (!vm->cpuid)
		return -ENOMEM;
	vm->cpuid->nent = VM_CPUID_MAX;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid) < 0) {
		pr_err("%s: KVM_GET_SUPPORTED_CPUID: %s", vm->name, strerror(errno));
		return -errno;
	}
	return 0;
}

static void serial_set_irq(void *opaque, int level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = LAYOUT_IRQ_COM1, .level = (uint32_t)level };

	ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq);
}

static void pm_stop(void *opaque, enum pm_event ev)
{
	static const enum vm_stop why[] = {
		[PM_POWEROFF] = VM_STOP_POWEROFF,
		[PM_RESET] = VM_STOP_RESET,
		[PM_PANIC] = VM_STOP_PANIC,
	};

	vm_request_stop(opaque, why[ev]);
}

/* Writes to port 0x80 (POST codes, Linux's I/O delay) are accepted and dropped. */
static void io_sink(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	(void)opaque;
	(void)off;
	if (!is_write)
		memset(data, 0xff, len);
}

struct port {
	uint64_t base, len;
	bus_io_fn fn;
	const char *name;
};

static int add_platform_devices(struct vm *vm, int console_fd)
{
	const struct serial_config com1 = {
		.name = "com1", .set_irq = serial_set_irq, .tx_fd = console_fd, .opaque = vm,
	};
	const struct port ports[] = {
		{ LAYOUT_PORT_PM1A_EVT, 4, pm_evt_io, "pm1a_evt" },
		{ LAYOUT_PORT_PM1A_CNT, 2, pm_cnt_io, "pm1a_cnt" },
		{ LAYOUT_PORT_PVPANIC, 1, pm_pvpanic_io, "pvpanic" },
		{ 0x64, 1, pm_i8042_io, "i8042" },
	};
	unsigned i;
	int err;

	err = pm_init(&vm->pm, vm->name, pm_stop, vm);
	if (err)
		return err;
	for (i = 0; i < ARRAY_SIZE(ports); i++) {
		err = bus_register(&vm->pio, ports[i].base, ports[i].len, ports[i].fn, &vm->pm,
				   ports[i].name);
		if (err)
			return err;
	}
	pci_host_set_cf9(&vm->pci, pm_reset_io, &vm->pm);
	err = bus_register(&vm->pio, 0x80, 1, io_sink, NULL, "post");
	if (err)
		return err;
	err = serial_init(&vm->com1, &com1);
	if (err)
		return err;
	return bus_register(&vm->pio, LAYOUT_PORT_COM1, SERIAL_NR_PORTS, serial_io, &vm->com1,
			    "com1");
}

static int create_vcpus(struct vm *vm, unsigned n)
{
	unsigned i;
	int err;

	vm->vcpus = calloc(n, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		err = vcpu_create(vm, &vm->vcpus[i], i);
		if (err)
			return err;
		vm->nr_vcpus++;
	}
	return 0;
}

int vm_create(struct vm *vm, int kvm_fd, const struct vm_config *cfg)
{
	int err;

	memset(vm, 0, sizeof(*vm));
	vm->name = cfg->name;
	vm->kvm_fd = kvm_fd;
	vm->topo_cpus = cfg->nr_cpus;
	vm->vm_fd = vm->stop_fd = vm->mem.fd = vm->ev.epfd = -1;
	vm->run_size = (size_t)ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	pthread_mutex_init(&vm->slot_lock, NULL);
	err = ev_init(&vm->ev);
	if (err)
		goto err_destroy;
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		goto err_errno;
	vm->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		pr_err("%s: KVM_CREATE_VM: %s", vm->name, strerror(errno));
		goto err_errno;
	}
	err = guest_mem_alloc(&vm->mem, cfg->mem_size, cfg->hugepages);
	if (err) {
		pr_err("%s: allocating %llu MiB of guest RAM%s: %s", vm->name,
		       (unsigned long long)(cfg->mem_size >> 20),
		       cfg->hugepages ? " from hugepages" : "", strerror(-err));
		goto err_destroy;
	}
	if (!vm->mem.hugepages && !vm->mem.thp)
		pr_warn("%s: transparent huge pages are off on this host: guest RAM is on 4 KiB pages, "
			"which makes every first touch a nested page fault; give --hugepages, or set "
			"/sys/kernel/mm/transparent_hugepage/enabled to madvise", vm->name);
	if ((err = set_memslots(vm)) || (err = create_irqchip(vm)) || (err = get_cpuid(vm)))
		goto err_destroy;
	err = route_table_init(&vm->routes, route_max_routes(vm->vm_fd));
	if (err)
		goto err_destroy;
	vm->routes_ready = true;
	if ((err = bus_init(&vm->pio, "pio")) || (err = bus_init(&vm->mmio, "mmio")))
		goto err_destroy;
	err = pci_host_init(&vm->pci, &vm->pio, &vm->mmio, cfg->mem_size);
	if (err)
		goto err_destroy;
	if ((err = add_platform_devices(vm, cfg->console_fd)) || (err = create_vcpus(vm, cfg->nr_cpus)))
		goto err_destroy;
	return 0;

err_errno:
	err = -errno;
err_destroy:
	vm_destroy(vm);
	return err;
}

/*
 * Mirrors vm_create(). Safe on a partly created VM: every step checks what
 * exists (vm_create() zeroes the struct first).
 */
void vm_destroy(struct vm *vm)
{
	unsigned i;

	for (i = vm->nr_vcpus; i-- > 0;)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nr_vcpus = 0;
	if (vm->com1.cfg.name)
		serial_exit(&vm->com1);
	if (vm->pm.stop)
		pm_exit(&vm->pm);
	if (vm->pci.pio)
		pci_host_exit(&vm->pci);
	if (vm->mmio.name)
		bus_exit(&vm->mmio);
	if (vm->pio.name)
		bus_exit(&vm->pio);
	if (vm->routes_ready)
		route_table_destroy(&vm->routes);
	vm->routes_ready = false;
	free(vm->cpuid);
	vm->cpuid = NULL;
	if (vm->mem.nr_regions || vm->mem.fd >= 0)
		guest_mem_free(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->stop_fd = vm->kvm_fd = -1;
	ev_exit(&vm->ev);
	pthread_mutex_destroy(&vm->slot_lock);
}

void vm_request_stop(struct vm *vm, enum vm_stop why)
{
	int expected = VM_RUNNING;
	uint64_t one = 1;
	ssize_t n;

	if (atomic_compare_exchange_strong(&vm->stop, &expected, (int)why)) {
		n = write(vm->stop_fd, &one, sizeof(one));
		(void)n;
	}
}

int vm_start(struct vm *vm)
{
	unsigned i;
	int err;

	for (i = 0; i < vm->nr_vcpus; i++) {
		err = vcpu_start(&vm->vcpus[i]);
		if (err) {
			vm_request_stop(vm, VM_STOP_ERROR);
			return err;
		}
	}
	return 0;
}

enum vm_stop vm_join(struct vm *vm)
{
	unsigned i;

	vm_request_stop(vm, VM_STOP_ERROR);	/* no-op when a reason is already set */
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
		vm->vcpus[i].started = false;
	}
	return (enum vm_stop)atomic_load(&vm->stop);
}

void vm_print_stats(struct vm *vm)
{
	static const char *const names[] = {
		"exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits", "irq_injections",
		"irq_window_exits", "insn_emulation", "pf_taken", "pf_fixed",
	};
	uint64_t val[ARRAY_SIZE(names)] = { 0 }, uio = 0, ummio = 0;
	unsigned i, k;
	size_t len;
	void *buf;

	for (i = 0; i < vm->nr_vcpus; i++) {
		uio += vm->vcpus[i].user_io;
		ummio += vm->vcpus[i].user_mmio;
		if (kvm_stats_load(vm->vcpus[i].fd, &buf, &len))
			continue;
		for (k = 0; k < ARRAY_SIZE(names); k++)
			kvm_stats_find(buf, len, names[k], &val[k]);
		free(buf);
	}
	fprintf(stderr, "sluice: %s: stats:", vm->name);
	for (k = 0; k < ARRAY_SIZE(names); k++)
		fprintf(stderr, " kvm_%s=%llu", names[k], (unsigned long long)val[k]);
	fprintf(stderr, " user_io=%llu user_mmio=%llu\n", (unsigned long long)uio,
		(unsigned long long)ummio);
	fprintf(stderr, "sluice: %s: exits to sluice by device: pio", vm->name);
	bus_print_hits(&vm->pio, stderr);
	fprintf(stderr, "; mmio");
	bus_print_hits(&vm->mmio, stderr);
	fputc('\n', stderr);
}
