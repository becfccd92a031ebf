internal import CRabbitMQ

/// A librabbitmq failure in words; the bus turns it into a `MessageBusError`.
struct AMQPError: Error, CustomStringConvertible {
    let description: String
    /// The broker closed a channel (a refused declare, say) but the connection lives on.
    let closedChannel: UInt16?
    /// The broker's reply code (404 not found, 406 precondition failed...), when it sent one.
    let replyCode: UInt16?

    init(_ description: String, closedChannel: UInt16? = nil, replyCode: UInt16? = nil) {
        self.description = description
        self.closedChannel = closedChannel
        self.replyCode = replyCode
    }

    /// `nil` for a normal reply; otherwise what went wrong while `doing`.
    init?(_ reply: amqp_rpc_reply_t, doing: @autoclosure () -> String) {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return nil
        case AMQP_RESPONSE_NONE:
            self.init("\(doing()): no reply (missing RPC reply type)")
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            self.init("\(doing()): \(AMQPConnection.describe(reply.library_error))")
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            switch reply.reply.id {
            case AMQP_CONNECTION_CLOSE_METHOD:
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                self.init(
                    "\(doing()): broker closed the connection: \(close.reply_code) \(String(close.reply_text))",
                    replyCode: close.reply_code)
            case AMQP_CHANNEL_CLOSE_METHOD:
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                self.init(
                    "\(doing()): broker closed the channel: \(close.reply_code) \(String(close.reply_text))",
                    closedChannel: 0, replyCode: close.reply_code)
            default:
                self.init("\(doing()): unexpected broker method \(reply.reply.id)")
            }
        default:
            self.init("\(doing()): unknown reply type")
        }
    }
}
