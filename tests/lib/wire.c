/* Blocking test client of the wire protocol (see wire.h). */
#include "wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "codec.h"

int wire_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct timeval tv = { .tv_sec = 10 };
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        (void)close(fd);
        return -1;
    }
    return fd;
}

int wire_send_raw(int fd, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int wire_send(int fd, uint8_t op, uint64_t request_id, const uint8_t *payload, size_t len)
{
    uint8_t head[PROTO_LEN_BYTES + PROTO_HEADER_BYTES];
    struct proto_header h = { .version = PROTO_VERSION, .op = op, .request_id = request_id };
    if (codec_frame_header_encode(&h, len, head) != 0) {
        return -1;
    }
    if (wire_send_raw(fd, head, sizeof(head)) != 0) {
        return -1;
    }
    return len == 0 ? 0 : wire_send_raw(fd, payload, len);
}

int wire_send_cmd(int fd, uint64_t request_id, const struct cmd *cmd)
{
    static uint8_t buf[USHER_CMD_BYTES_MAX];
    size_t len = 0;
    if (codec_cmd_encode(cmd, buf, sizeof(buf), &len) != 0) {
        return -1;
    }
    return wire_send(fd, PROTO_OP_COMMAND, request_id, buf, len);
}

static int recv_all(int fd, uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int wire_recv(int fd, struct proto_header *h, uint8_t *buf, size_t cap, size_t *len)
{
    static uint8_t frame[USHER_FRAME_BYTES_MAX];
    size_t frame_bytes = 0;
    if (recv_all(fd, frame, PROTO_LEN_BYTES) != 0 ||
        codec_frame_length_decode(frame, &frame_bytes) != 0 ||
        recv_all(fd, frame + PROTO_LEN_BYTES, frame_bytes - PROTO_LEN_BYTES) != 0) {
        return -1;
    }
    const uint8_t *payload = NULL;
    size_t payload_len = 0;
    if (codec_frame_decode(frame, frame_bytes, h, &payload, &payload_len) != 0 ||
        payload_len > cap) {
        return -1;
    }
    memcpy(buf, payload, payload_len);
    *len = payload_len;
    return 0;
}

int wire_is_closed(int fd)
{
    uint8_t b;
    return recv(fd, &b, 1, 0) == 0 ? 1 : 0;
}
