/* sluice: epoll event loop for the main thread. */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "vmm/evloop.h"

int ev_init(struct evloop *l)
{
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

void ev_exit(struct evloop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

static int ctl(struct evloop *l, int op, struct ev_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(l->epfd, op, w->fd, &ev) < 0 ? -errno : 0;
}

int ev_add(struct evloop *l, struct ev_watch *w, uint32_t events)
{
	return ctl(l, EPOLL_CTL_ADD, w, events);
}

int ev_mod(struct evloop *l, struct ev_watch *w, uint32_t events)
{
	return ctl(l, EPOLL_CTL_MOD, w, events);
}

int ev_del(struct evloop *l, struct ev_watch *w)
{
	return ctl(l, EPOLL_CTL_DEL, w, 0);
}

int ev_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event evs[16];
	struct ev_watch *w;
	int i, n;

	n = epoll_wait(l->epfd, evs, 16, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		w = evs[i].data.ptr;
		w->fn(w, evs[i].events);
	}
	return 0;
}
