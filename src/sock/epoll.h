/* SPDX-License-Identifier: MIT */
/*
 * epoll internals shared with the file layer (Linux eventpoll.h).
 * The public calls are in include/wirepath/socket.h.
 */
#ifndef WP_SOCK_EPOLL_H
#define WP_SOCK_EPOLL_H

#include <stdbool.h>

struct wp_file;

/*
 * eventpoll_release: the last reference to f is going; remove it from
 * every epoll instance that watches it. Called by wp_file_put() before
 * the file's release op; cheap when nothing watches f.
 */
void wp__eventpoll_release(struct wp_file *f);

/*
 * True when a thread sleeps in wp_epoll_wait on epfd (of the current
 * descriptor table) with nothing on the ready list: whoever owns the
 * instance has nothing to do until a watched file becomes ready. Both
 * are read under the instance's lock, under which every wake-up happens,
 * so a wake-up on its way is seen (the woken waiter has left the queue).
 * False if epfd is not an epoll instance. For runners on virtual time,
 * which wait for their applications to be idle before moving the clock.
 */
bool wp__epoll_idle(int epfd);

#endif
