package dev.sacrag.kvstore;

import io.lettuce.core.SocketOptions;
import io.lettuce.core.resource.EpollProvider;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LettuceConnectionTest {

    /**
     * The dead-peer settings take effect only on Linux's native transport: without it Lettuce
     * ignores TCP_USER_TIMEOUT and the keepalive timing, and a vanished Redis holds a connection
     * "up" for about 15 minutes.
     */
    @Test
    void connectionsRunOnTheNativeTransportWithDeadPeerTimeouts() {
        assertTrue(EpollProvider.isAvailable(), "Netty's native epoll transport did not load: kv-store depends on"
                + " io.netty:netty-transport-native-epoll (linux-x86_64) at lettuce-core's Netty version");
        SocketOptions o = LettuceConnection.socketOptions();
        assertTrue(o.getTcpUserTimeout().isEnabled());
        assertEquals(LettuceConnection.TCP_USER_TIMEOUT, o.getTcpUserTimeout().getTcpUserTimeout());
        assertTrue(o.getKeepAlive().isEnabled());
        assertTrue(o.getKeepAlive().getIdle().plus(o.getKeepAlive().getInterval().multipliedBy(o.getKeepAlive().getCount()))
                .compareTo(Duration.ofMinutes(1)) <= 0, "an idle connection to a vanished peer is found within a minute");
    }
}
