/*
 * bootclock: run a VMM, pass its output through, and report how long it took
 * until a line containing PATTERN appeared, how long until it exited, its
 * resident memory at the pattern split into guest memory and the rest (summed
 * over the command and its descendants: sluice's monitor and VMM), and KVM's
 * per-VM counters of the run (from whichever process created the VM):
 *
 *   bootclock [-t SECONDS] PATTERN COMMAND [ARGS...]
 *   -> "bootclock: pattern_ms=... exit_ms=... rss_kib=... ram_rss_kib=...
 *       ram_thp_kib=... ram_maps=... kvm_sample_ms=... kvm_exits=... status=..."
 *
 * With -t, the command is killed (SIGKILL) after SECONDS and the line says
 * timeout=1; its status is then 137.
 *
 * Guest memory is every mapping whose smaps VmFlags has "hg" (MADV_HUGEPAGE)
 * or "ht" (hugetlb), or that is sluice's memfd "sluice-ram": sluice advises
 * only its guest RAM (vmm/memory.h), and QEMU advises every RAMBlock (RAM and
 * ROMs, all guest-visible). The Debian 6.12 kernel has no CONFIG_ANON_VMA_NAME,
 * so an anonymous mapping cannot carry a name.
 *
 * KVM's per-VM counters live in debugfs, /sys/kernel/debug/kvm/PID-FD/, only
 * while the VM exists (Documentation/virt/kvm/api.rst, "KVM debugfs"): they
 * are sampled every 100 ms and the last sample is printed, with its time.
 * Without debugfs or a VM the fields are "kvm=none": no number is invented.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KVM_DEBUGFS "/sys/kernel/debug/kvm"

/* vCPU counters (summed over vCPUs by KVM) and, last, the VM's page sizes. */
static const char *const kvm_names[] = {
	"exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits", "irq_window_exits",
	"nmi_window_exits", "insn_emulation", "irq_injections", "hypercalls", "signal_exits",
	"pf_taken", "pf_fixed", "pf_emulate", "pf_spurious", "pf_mmio_spte_created",
	"pages_4k", "pages_2m",
};
#define NR_KVM (sizeof(kvm_names) / sizeof(kvm_names[0]))

struct rss {
	long other_kib, ram_kib, ram_thp_kib, ram_maps;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A mapping line of smaps: "start-end perms offset dev inode [path]". */
static bool is_mapping_line(const char *line)
{
	size_t n = strspn(line, "0123456789abcdef");

	return n > 0 && line[n] == '-';
}

static bool is_guest_mem(const char *vmflags, bool named)
{
	return named || strstr(vmflags, " hg") || strstr(vmflags, " ht");
}

/*
 * Sum Rss over /proc/PID/smaps, split into guest memory and the rest. A
 * mapping's VmFlags line is its last, so its sizes are kept until then.
 * False when there is nothing to read (the process already exited).
 */
static bool sample_rss_one(pid_t pid, struct rss *r)
{
	long rss = 0, thp = 0, kib;
	char path[64], line[512];
	bool named = false, any = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (is_mapping_line(line)) {
			any = true;
			named = strstr(line, "sluice-ram") != NULL;
			rss = thp = 0;
		} else if (sscanf(line, "Rss: %ld kB", &kib) == 1) {
			rss = kib;
		} else if (sscanf(line, "AnonHugePages: %ld kB", &kib) == 1) {
			thp = kib;
		} else if (!strncmp(line, "VmFlags:", 8)) {
			if (is_guest_mem(line + 8, named)) {
				r->ram_kib += rss;
				r->ram_thp_kib += thp;
				r->ram_maps++;
			} else {
				r->other_kib += rss;
			}
		}
	}
	fclose(f);
	return any;
}

#define MAX_TREE 16

/*
 * @pid and its descendants, breadth first (/proc/PID/task/TID/children): a
 * sluice run is a monitor and its VMM child, QEMU one process. Returns how many.
 */
static unsigned process_tree(pid_t pid, pid_t *out)
{
	char path[64];
	unsigned n = 1, i;
	long c;
	FILE *f;

	out[0] = pid;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)out[i], (int)out[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (n < MAX_TREE && fscanf(f, "%ld", &c) == 1)
			out[n++] = (pid_t)c;
		fclose(f);
	}
	return n;
}

/* The whole tree's memory: what the monitor and the VMM hold together. */
static bool sample_rss(pid_t pid, struct rss *r)
{
	pid_t tree[MAX_TREE];
	unsigned n = process_tree(pid, tree), i;
	bool any = false;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < n; i++)
		any |= sample_rss_one(tree[i], r);
	return any;
}

/* The debugfs folder of PID's VM ("PID-FD"), or -ENOENT. */
static int kvm_dir(pid_t pid, char *out, size_t len)
{
	char prefix[32];
	struct dirent *e;
	int err = -ENOENT;
	DIR *d;

	d = opendir(KVM_DEBUGFS);
	if (!d)
		return -errno;
	snprintf(prefix, sizeof(prefix), "%d-", (int)pid);
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix))) {
			snprintf(out, len, "%s/%.255s", KVM_DEBUGFS, e->d_name);
			err = 0;
			break;
		}
	closedir(d);
	return err;
}

/* Read every counter; a VM that vanished half-way leaves @val untouched. */
static int sample_kvm(pid_t pid, uint64_t *val)
{
	uint64_t tmp[NR_KVM];
	char dir[320], path[360];
	unsigned i;
	FILE *f;
	int ok;

	pid_t tree[MAX_TREE];
	unsigned n = process_tree(pid, tree), t;

	/* The VM belongs to whichever process of the tree created it (sluice: the VMM). */
	for (t = 0; t < n && kvm_dir(tree[t], dir, sizeof(dir)); t++)
		;
	if (t == n)
		return -ENOENT;
	for (i = 0; i < NR_KVM; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, kvm_names[i]);
		f = fopen(path, "re");
		if (!f)
			return -errno;
		ok = fscanf(f, "%" SCNu64, &tmp[i]) == 1;
		fclose(f);
		if (!ok)
			return -EIO;
	}
	memcpy(val, tmp, sizeof(tmp));
	return 0;
}

static void print_result(double t_pat, double t_exit, const struct rss *r, double t_kvm,
			 const uint64_t *kvm, int status)
{
	unsigned i;

	printf("bootclock: pattern_ms=%.1f exit_ms=%.1f", t_pat, t_exit);
	if (r)
		printf(" rss_kib=%ld ram_rss_kib=%ld ram_thp_kib=%ld ram_maps=%ld", r->other_kib,
		       r->ram_kib, r->ram_thp_kib, r->ram_maps);
	else
		printf(" rss=none");
	if (t_kvm >= 0) {
		printf(" kvm_sample_ms=%.1f", t_kvm);
		for (i = 0; i < NR_KVM; i++)
			printf(" kvm_%s=%" PRIu64, kvm_names[i], kvm[i]);
	} else {
		printf(" kvm=none");
	}
	printf(" status=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static pid_t spawn(char **argv, int *out_fd)
{
	int pfd[2];
	pid_t pid;

	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "bootclock: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	*out_fd = pfd[0];
	return pid;
}

/* Lines of the VMM's output, read with read(2) so poll(2) sees all that is pending. */
struct lines {
	char buf[8192];
	size_t len;
};

/* Hand each complete line to @fn; a line longer than the buffer is cut. */
static int read_lines(int fd, struct lines *l, void (*fn)(const char *, void *), void *opaque)
{
	ssize_t n = read(fd, l->buf + l->len, sizeof(l->buf) - 1 - l->len);
	char *nl, *p;

	if (n <= 0)
		return n < 0 && errno == EINTR ? 0 : -1;
	l->len += (size_t)n;
	l->buf[l->len] = 0;
	for (p = l->buf; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = 0;
		fn(p, opaque);
	}
	if (p == l->buf && l->len == sizeof(l->buf) - 1) {
		fn(p, opaque);
		p = l->buf + l->len;
	}
	l->len -= (size_t)(p - l->buf);
	memmove(l->buf, p, l->len);
	return 0;
}

struct run {
	const char *pattern;
	pid_t pid;
	double t0, t_pat;
	struct rss rss;
	bool have_rss;
};

static void on_line(const char *line, void *opaque)
{
	struct run *r = opaque;

	printf("%s\n", line);
	fflush(stdout);
	if (r->t_pat < 0 && strstr(line, r->pattern)) {
		r->t_pat = now_ms() - r->t0;
		r->have_rss = sample_rss(r->pid, &r->rss);
	}
}

int main(int argc, char **argv)
{
	static struct lines lines;
	struct run r = { .t_pat = -1 };
	uint64_t kvm[NR_KVM] = { 0 };
	double t_kvm = -1, limit_ms = 0;
	bool killed = false;
	int fd, status;

	if (argc > 2 && !strcmp(argv[1], "-t")) {
		limit_ms = atof(argv[2]) * 1e3;
		argv += 2;
		argc -= 2;
	}
	if (argc < 3 || limit_ms < 0) {
		fprintf(stderr, "usage: bootclock [-t SECONDS] PATTERN COMMAND [ARGS...]\n");
		return 2;
	}
	r.pattern = argv[1];
	r.t0 = now_ms();
	r.pid = spawn(argv + 2, &fd);
	if (r.pid < 0)
		return 1;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (!sample_kvm(r.pid, kvm))
			t_kvm = now_ms() - r.t0;
		if (limit_ms && !killed && now_ms() - r.t0 > limit_ms)
			killed = !kill(r.pid, SIGKILL);
		if (poll(&p, 1, 100) > 0 && read_lines(fd, &lines, on_line, &r))
			break;
	}
	waitpid(r.pid, &status, 0);
	if (killed)
		printf("bootclock: timeout=1 after %.0f s\n", limit_ms / 1e3);
	print_result(r.t_pat, now_ms() - r.t0, r.have_rss ? &r.rss : NULL, t_kvm, kvm, status);
	return r.t_pat < 0;
}
