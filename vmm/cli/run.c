/* sluice: `sluice run`, a thin layer over the machine library (vmm/machine.h). */
#include <string.h>
#include <unistd.h>

#include "vmm/cli/cli.h"
#include "vmm/cli/commands.h"
#include "vmm/cli/run.h"
#include "vmm/cli/term.h"
#include "vmm/log.h"
#include "vmm/machine.h"

_Static_assert(RUN_MAX_ASSIGN == MACHINE_MAX_ASSIGN, "--assign takes what a machine holds");
_Static_assert(RUN_MAX_NETS == MACHINE_MAX_VFS, "--net vf: takes what a machine holds");

/* The console's escape key (Ctrl-A x), as the machine's input filter. */
static enum machine_key escape_key(void *opaque, uint8_t in, uint8_t *out)
{
	switch (term_escape_feed(opaque, in, out)) {
	case TERM_SEND:
		return MACHINE_KEY_SEND;
	case TERM_QUIT:
		return MACHINE_KEY_QUIT;
	case TERM_HELP:
		return MACHINE_KEY_HELP;
	default:
		return MACHINE_KEY_NONE;
	}
}

static void config_from_opts(struct machine_config *c, const struct run_opts *o,
			     struct term_escape *esc)
{
	unsigned i;

	*c = (struct machine_config){
		.name = o->name, .kernel = o->kernel, .initrd = o->initrd, .cmdline = o->cmdline,
		.cpus = (unsigned)o->cpus, .memory = o->memory, .hugepages = o->hugepages,
		.stats = o->stats, .nr_assign = o->nr_assign,
		.allow_unsafe_interrupts = o->allow_unsafe_interrupts, .viommu = o->viommu,
		.jail = { .enabled = !o->no_jail, .user = o->jail_user },
		.console = {
			.in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO,
			.key = escape_key, .opaque = esc, .help = term_escape_help,
		},
	};
	for (i = 0; i < o->nr_assign; i++)
		c->assign[i] = o->assign[i];
	memcpy(c->vf, o->vf, sizeof(o->vf));
	c->nr_vfs = o->nr_vfs;
	memcpy(c->dev.disk, o->disk, sizeof(o->disk));
	c->dev.nr_disks = o->nr_disks;
	memcpy(c->dev.net, o->net, sizeof(o->net));
	c->dev.nr_nets = o->nr_nets;
}

int cmd_run(int argc, char **argv)
{
	struct term_escape esc = { 0 };
	struct machine_config cfg;
	struct machine m;
	struct run_opts o;
	struct term term;
	int err, status;

	err = run_parse_opts(argc, argv, &o);
	if (err)
		return err > 0 ? SLUICE_EXIT_OK : SLUICE_EXIT_USAGE;
	config_from_opts(&cfg, &o, &esc);
	if (machine_check(&m, &cfg))
		return SLUICE_EXIT_USAGE;
	if (o.no_jail)
		pr_warn("%s: --no-jail: the VMM runs as root with every capability, no seccomp "
			"filter and the host's filesystem; use it only to debug sluice", o.name);
	status = machine_take(&m);
	if (!status) {
		/* The terminal is raw while the guest runs, and restored however the run ends. */
		term_init(&term, STDIN_FILENO);
		term_raw(&term);
		status = machine_spawn(&m) ? SLUICE_EXIT_FAIL : machine_wait(&m);
		term_restore(&term);
	}
	machine_give_back(&m);
	return status;
}
