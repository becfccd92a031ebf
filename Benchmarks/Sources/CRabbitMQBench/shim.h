#ifndef CRABBITMQ_SHIM_H
#define CRABBITMQ_SHIM_H

// amqp.h uses struct timeval without including its definition.
#include <sys/time.h>
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>

// amqp_login is variadic, which Swift cannot call; PLAIN takes exactly a
// user name and a password, so a fixed-arity wrapper covers our only use.
static inline amqp_rpc_reply_t crabbitmq_login_plain(amqp_connection_state_t state, const char *vhost,
                                                     int channel_max, int frame_max, int heartbeat,
                                                     const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}

#endif
