/*
 * sluice: read the host's interrupt-remapping facts from /proc and /sys,
 * under a root directory so tests can point it at tests/fixtures/irq/<case>.
 * A missing file is a fact (recorded in struct irq_host_facts), not an error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "irqremap/irqremap.h"
#include "vmm/log.h"

#define TEXT_MAX	(16u << 20)	/* /proc/interrupts grows with CPUs x IRQs */

#define PATH_INTERRUPTS	"/proc/interrupts"
#define PATH_IOMMU	"/sys/class/iommu"
#define PATH_UNSAFE	"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"

/* @root + @path; "" and "/" mean the real root. NULL with errno. */
static char *join(const char *root, const char *path)
{
	char *s;

	if (!root || !strcmp(root, "/"))
		root = "";
	if (asprintf(&s, "%s%s", root, path) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

/* The whole file, NUL-terminated; /proc files report size 0, so read to EOF. */
static char *read_text(const char *path)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *grown;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	ssize_t n;

	if (fd < 0 || !buf)
		goto err;
	while ((n = read(fd, buf + len, cap - len - 1)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto err;
		}
		len += (size_t)n;
		if (len + 1 == cap) {
			if (cap >= TEXT_MAX) {
				errno = EFBIG;
				goto err;
			}
			if (!(grown = realloc(buf, cap * 2)))
				goto err;
			buf = grown;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	close(fd);
	return buf;
err:
	err = errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	errno = err;
	return NULL;
}

static char *read_under(const char *root, const char *path)
{
	char *full = join(root, path), *text;
	int err;

	if (!full)
		return NULL;
	text = read_text(full);
	err = errno;
	free(full);
	errno = err;
	return text;
}

/* Intel: every DMAR unit must have ECAP.IR, or Linux enables remapping on none. */
static bool dmar_can_remap(const char *root, const char *unit)
{
	char path[256], *text;
	bool ir = false;

	snprintf(path, sizeof(path), PATH_IOMMU "/%s/intel-iommu/ecap", unit);
	text = read_under(root, path);
	if (!text || irq_host_parse_ecap(text, &ir))
		ir = false;	/* unreadable: claim nothing */
	free(text);
	return ir;
}

static void note_unit(struct irq_host_facts *f, const char *unit, bool can_remap)
{
	f->iommu_units++;
	if (f->ir_capable == 0)
		return;		/* the first unit that cannot remap stays named */
	if (f->ir_capable < 0 || !can_remap)
		snprintf(f->unit, sizeof(f->unit), "%.*s", (int)sizeof(f->unit) - 1, unit);
	f->ir_capable = can_remap;
}

/*
 * /sys/class/iommu/dmar<N> (Intel) and ivhd<N> (AMD). AMD-Vi remaps
 * interrupts on every IOMMU it describes; Linux turns it off only by option.
 */
static void probe_units(const char *root, struct irq_host_facts *f)
{
	struct dirent **ents;
	char *dir = join(root, PATH_IOMMU);
	int i, n;

	f->ir_capable = -1;
	n = dir ? scandir(dir, &ents, NULL, alphasort) : -1;
	free(dir);
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;

		if (!strncmp(name, "dmar", 4))
			note_unit(f, name, dmar_can_remap(root, name));
		else if (!strncmp(name, "ivhd", 4))
			note_unit(f, name, true);
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

/* Absent: vfio_iommu_type1 is not loaded; its default is N. Unparsable: unsafe. */
static void probe_unsafe(const char *root, struct irq_host_facts *f)
{
	char *text = read_under(root, PATH_UNSAFE);
	bool on = true;

	if (!text && errno == ENOENT)
		on = false;
	else if (text && irq_host_parse_param(text, &on))
		on = true;
	free(text);
	f->unsafe = on;
}

int irq_host_probe(const char *root, struct irq_host_facts *f)
{
	char *text;

	memset(f, 0, sizeof(*f));
	text = read_under(root, PATH_INTERRUPTS);
	if (!text && errno == ENOMEM)
		return -ENOMEM;
	if (text)
		irq_host_parse_interrupts(text, f);
	free(text);
	probe_units(root, f);
	probe_unsafe(root, f);
	return 0;
}

int irq_host_require(const char *root, bool allow_unsafe)
{
	struct irq_host_facts f;
	char msg[512];
	int err = irq_host_probe(root, &f);

	if (err) {
		pr_err("host: cannot check interrupt remapping: %s; free some memory and retry",
		       strerror(-err));
		return err;
	}
	if (irq_host_judge(&f, msg, sizeof(msg)) == IRQ_HOST_OK)
		return 0;
	if (!allow_unsafe) {
		pr_err("%s", msg);
		return -EPERM;
	}
	pr_warn("%s", msg);
	pr_warn("host: UNSAFE: --allow-unsafe-interrupts is set; an assigned device can send"
		" interrupts the host never granted it, to the host and to other guests."
		" Run only trusted devices and guests this way");
	return 0;
}
