/*
 * sluice: the main thread's event loop. Devices and the console register
 * fds with a callback; callbacks run in the main thread, one at a time.
 */
#ifndef SLUICE_EVLOOP_H
#define SLUICE_EVLOOP_H

#include <stdint.h>

struct ev_watch {
	int fd;
	void (*fn)(struct ev_watch *w, uint32_t events);
	void *opaque;
};

struct evloop {
	int epfd;
};

int ev_init(struct evloop *l);
void ev_exit(struct evloop *l);
/* @events: EPOLLIN etc.; 0 keeps the fd registered but silent. 0 or -errno. */
int ev_add(struct evloop *l, struct ev_watch *w, uint32_t events);
int ev_mod(struct evloop *l, struct ev_watch *w, uint32_t events);
int ev_del(struct evloop *l, struct ev_watch *w);
/* Wait up to @timeout_ms (-1: forever) and dispatch; 0 or -errno. */
int ev_run_once(struct evloop *l, int timeout_ms);

#endif
