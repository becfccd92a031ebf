#ifndef CLINUXSOCKET_SHIM_H
#define CLINUXSOCKET_SHIM_H

// Swift's Glibc module does not export Linux's epoll, nor accept4, pipe2 and posix_spawn's
// closefrom action, which glibc only declares under _GNU_SOURCE. Defining _GNU_SOURCE here
// would make this module's view of glibc's types differ from SwiftGlibc's (the compiler
// refuses that), so the functions are declared by hand with glibc's signatures.
#include <sys/epoll.h>
#include <spawn.h>
#include <stddef.h>

struct sockaddr;
extern int accept4(int fd, struct sockaddr *address, unsigned int *length, int flags);
extern int pipe2(int fds[2], int flags);

// glibc 2.34+: a child started with posix_spawn keeps only the descriptors below `from`. Without
// it a child inherits every socket its parent opened without O_CLOEXEC (a job command would hold
// a worker's connection open after the worker closed it).
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
static inline int clinux_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

// glibc keeps freed heap pages resident; this hands them back (see SchedulerEngine's use).
extern int malloc_trim(size_t pad);
static inline void clinux_release_free_memory(void) { malloc_trim(0); }

static inline int clinux_accept4(int fd, int flags) { return accept4(fd, 0, 0, flags); }
static inline int clinux_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }

// epoll_event is packed on x86-64; these keep Swift away from its layout.
static inline int clinux_epoll_ctl(int epfd, int op, int fd, unsigned int events, unsigned long long id) {
    struct epoll_event event;
    event.events = events;
    event.data.u64 = id;
    return epoll_ctl(epfd, op, fd, &event);
}
static inline unsigned long long clinux_event_id(const struct epoll_event *events, int index) {
    return events[index].data.u64;
}
static inline unsigned int clinux_event_flags(const struct epoll_event *events, int index) {
    return events[index].events;
}

static const unsigned int CLINUX_EPOLLIN = EPOLLIN;
static const unsigned int CLINUX_EPOLLOUT = EPOLLOUT;
static const unsigned int CLINUX_EPOLLERR = EPOLLERR;
static const unsigned int CLINUX_EPOLLHUP = EPOLLHUP;
static const unsigned int CLINUX_EPOLLEXCLUSIVE = EPOLLEXCLUSIVE;

#endif
