/*
 * Which node gets a call (usher_int.h "Routing").
 *
 * An event lives on shard XXH64(event id as 8 LE bytes, seed 0) % shard
 * count (src/shard.c, the same function usherd runs). The client learns
 * the shard count and who leads what from status answers (each node says
 * which shards it leads) and from NOT_LEADER redirects (the answer names
 * the leader's address). Until it knows, a call goes to the cursor's node,
 * which redirects it. A node that failed is avoided for a while (a simple
 * circuit breaker) and forgets its leaderships, so the next call asks
 * another node.
 *
 * No libuv here: these functions take the time as an argument, so tests
 * drive them directly.
 */
#include "usher_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "assertion.h"
#include "shard.h"

int usher_route_addr_parse(const char *s, struct sockaddr_in *out)
{
    if (s == NULL) {
        return USHER_INVALID;
    }
    size_t len = strnlen(s, PROTO_ADDR_LEN_MAX + 1u);
    const char *colon = memchr(s, ':', len);
    if (len > PROTO_ADDR_LEN_MAX || colon == NULL || colon == s) {
        return USHER_INVALID;
    }
    char host[INET_ADDRSTRLEN];
    size_t host_len = (size_t)(colon - s);
    if (host_len >= sizeof(host)) {
        return USHER_INVALID;
    }
    memcpy(host, s, host_len);
    host[host_len] = '\0';
    uint32_t port = 0;
    const char *p = colon + 1;
    for (unsigned i = 0; p[i] != '\0'; i++) {
        if (p[i] < '0' || p[i] > '9' || i >= 5u) {
            return USHER_INVALID;
        }
        port = port * 10u + (uint32_t)(p[i] - '0');
    }
    if (port == 0 || port > 65535u) {
        return USHER_INVALID;
    }
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &out->sin_addr) != 1) {
        return USHER_INVALID;
    }
    return 0;
}

int usher_route_peer_add(struct usher_route *r, const char *addr, uint32_t *index)
{
    struct sockaddr_in sa;
    if (usher_route_addr_parse(addr, &sa) != 0) {
        return USHER_INVALID;
    }
    /* Compare parsed addresses, so "127.0.0.1:7000" and "127.000.0.1:7000"
     * are one node. */
    for (uint32_t i = 0; i < r->peer_count; i++) {
        if (r->peers[i].sa.sin_addr.s_addr == sa.sin_addr.s_addr &&
            r->peers[i].sa.sin_port == sa.sin_port) {
            *index = i;
            return 0;
        }
    }
    if (r->peer_count >= USHER_NODES_LIMIT) {
        return USHER_BUSY;
    }
    struct usher_peer *p = &r->peers[r->peer_count];
    memset(p, 0, sizeof(*p));
    p->sa = sa;
    char host[INET_ADDRSTRLEN];
    const char *h = inet_ntop(AF_INET, &sa.sin_addr, host, sizeof(host));
    ASSERT(h != NULL); /* the buffer fits every IPv4 address */
    (void)snprintf(p->addr, sizeof(p->addr), "%s:%u", host, (unsigned)ntohs(sa.sin_port));
    *index = r->peer_count;
    r->peer_count++;
    return 0;
}

static bool avoided(const struct usher_route *r, uint32_t peer, uint64_t now_ms)
{
    return r->peers[peer].down_until_ms > now_ms;
}

bool usher_route_is_avoided(const struct usher_route *r, uint32_t peer, uint64_t now_ms)
{
    ASSERT(peer < r->peer_count);
    return avoided(r, peer, now_ms);
}

uint32_t usher_route_pick(const struct usher_route *r, uint64_t event_id, uint64_t now_ms)
{
    ASSERT(r->peer_count > 0);
    ASSERT(r->cursor < r->peer_count);
    if (event_id != 0 && r->shard_count != 0) {
        uint16_t leader = r->leader[shard_of_event(event_id, r->shard_count)];
        if (leader != 0 && !avoided(r, leader - 1u, now_ms)) {
            return leader - 1u;
        }
    }
    uint32_t soonest = r->cursor;
    for (uint32_t i = 0; i < r->peer_count; i++) {
        uint32_t p = (r->cursor + i) % r->peer_count;
        if (!avoided(r, p, now_ms)) {
            return p;
        }
        if (r->peers[p].down_until_ms < r->peers[soonest].down_until_ms) {
            soonest = p;
        }
    }
    return soonest;
}

void usher_route_leader_set(struct usher_route *r, uint64_t event_id, uint32_t peer)
{
    ASSERT(peer < r->peer_count);
    if (event_id == 0 || r->shard_count == 0) {
        return;
    }
    r->leader[shard_of_event(event_id, r->shard_count)] = (uint16_t)(peer + 1u);
}

void usher_route_leader_forget(struct usher_route *r, uint64_t event_id)
{
    if (event_id == 0 || r->shard_count == 0) {
        return;
    }
    r->leader[shard_of_event(event_id, r->shard_count)] = 0;
}

void usher_route_peer_failed(struct usher_route *r, uint32_t peer, uint64_t now_ms,
                             uint32_t avoid_ms)
{
    ASSERT(peer < r->peer_count);
    struct usher_peer *p = &r->peers[peer];
    p->fail_count++;
    p->down_until_ms = now_ms + avoid_ms;
    for (uint32_t s = 0; s < r->shard_count; s++) {
        if (r->leader[s] == peer + 1u) {
            r->leader[s] = 0;
        }
    }
    if (r->cursor == peer) {
        r->cursor = (peer + 1u) % r->peer_count;
    }
}

void usher_route_peer_ok(struct usher_route *r, uint32_t peer)
{
    ASSERT(peer < r->peer_count);
    r->peers[peer].fail_count = 0;
    r->peers[peer].down_until_ms = 0;
}

void usher_route_status_learn(struct usher_route *r, uint32_t peer,
                              const struct proto_node_status *s)
{
    ASSERT(peer < r->peer_count);
    if (s->shard_count == 0 || s->shard_count > PROTO_STATUS_SHARDS_MAX) {
        return; /* not a shape we can route by: keep asking the cursor's node */
    }
    if (s->shard_count != r->shard_count) {
        memset(r->leader, 0, sizeof(r->leader));
        r->shard_count = s->shard_count;
    }
    for (uint32_t i = 0; i < s->listed && i < PROTO_STATUS_SHARDS_MAX; i++) {
        const struct proto_shard_status *sh = &s->shards[i];
        if (sh->shard >= r->shard_count) {
            continue;
        }
        if (sh->role == USHER_ROLE_LEADER) {
            r->leader[sh->shard] = (uint16_t)(peer + 1u);
        } else if (r->leader[sh->shard] == peer + 1u) {
            r->leader[sh->shard] = 0;
        }
    }
}

uint32_t usher_event_shard(uint64_t event_id, uint32_t shard_count)
{
    return shard_count == 0 ? 0 : shard_of_event(event_id, shard_count);
}
