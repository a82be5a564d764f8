/* SPDX-License-Identifier: MIT */
/*
 * epoll internals shared with the file layer (Linux eventpoll.h).
 * The public calls are in include/wirepath/socket.h.
 */
#ifndef WP_SOCK_EPOLL_H
#define WP_SOCK_EPOLL_H

struct wp_file;

/*
 * eventpoll_release: the last reference to f is going; remove it from
 * every epoll instance that watches it. Called by wp_file_put() before
 * the file's release op; cheap when nothing watches f.
 */
void wp__eventpoll_release(struct wp_file *f);

#endif
