/*
 * bootclock: run a command, pass its output through, and report how long it
 * took until a line containing PATTERN appeared, how long until it exited,
 * and the command's resident memory at that moment with the guest RAM
 * mapping (memfd "sluice-ram") left out:
 *
 *   bootclock PATTERN COMMAND [ARGS...]
 *   -> "bootclock: pattern_ms=... exit_ms=... rss_kib=... ram_rss_kib=... status=..."
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A mapping line of smaps: "start-end perms offset dev inode [path]". */
static int is_mapping_line(const char *line)
{
	size_t n = strspn(line, "0123456789abcdef");

	return n > 0 && line[n] == '-';
}

/* Sum Rss over /proc/PID/smaps, split into the guest RAM mapping and the rest. */
static void sample_rss(pid_t pid, long *other_kib, long *ram_kib)
{
	char path[64], line[512];
	int in_ram = 0;
	long kib;
	FILE *f;

	*other_kib = *ram_kib = 0;
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (is_mapping_line(line))
			in_ram = strstr(line, "sluice-ram") != NULL;
		else if (sscanf(line, "Rss: %ld kB", &kib) == 1)
			*(in_ram ? ram_kib : other_kib) += kib;
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	double t0, t_pat = -1, t_exit;
	long rss = -1, ram = -1;
	char line[4096];
	int pfd[2], status;
	pid_t pid;
	FILE *out;

	if (argc < 3) {
		fprintf(stderr, "usage: bootclock PATTERN COMMAND [ARGS...]\n");
		return 2;
	}
	if (pipe(pfd) < 0)
		return 1;
	t0 = now_ms();
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "bootclock: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	out = fdopen(pfd[0], "r");
	while (out && fgets(line, sizeof(line), out)) {
		fputs(line, stdout);
		if (t_pat < 0 && strstr(line, argv[1])) {
			t_pat = now_ms() - t0;
			sample_rss(pid, &rss, &ram);
		}
	}
	waitpid(pid, &status, 0);
	t_exit = now_ms() - t0;
	printf("bootclock: pattern_ms=%.1f exit_ms=%.1f rss_kib=%ld ram_rss_kib=%ld status=%d\n",
	       t_pat, t_exit, rss, ram, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return t_pat < 0;
}
