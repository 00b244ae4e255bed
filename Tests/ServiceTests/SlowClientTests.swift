import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import VaultApp
@testable import VaultHTTP

/// Issue 10's limits against slow clients, on a real socket: a client that trickles its header bytes (slowloris) is
/// disconnected by the idle timeout, one that trickles its body gets 408 at the request timeout, and other clients
/// are answered meanwhile.
@Suite("Slow clients", .serialized)
struct SlowClientTests {
    /// A plain TCP connection to the loopback server, written to byte by byte.
    final class RawConnection: @unchecked Sendable {
        let fd: Int32

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw FixtureError("socket() failed") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                close(fd)
                throw FixtureError("cannot connect to 127.0.0.1:\(port)")
            }
        }

        deinit { close(fd) }

        /// Sends bytes; false once the server has closed the connection.
        func send(_ bytes: [UInt8]) -> Bool {
            bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
        }

        /// What the server has sent so far without waiting; nil once it has closed the connection with nothing to read.
        func poll() -> [UInt8]? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count == 0 { return nil }
            if count < 0 { return (errno == EAGAIN || errno == EWOULDBLOCK) ? [] : nil }
            return Array(buffer.prefix(count))
        }
    }

    /// The outcome of trickling bytes: whether the server closed the connection, what it answered, and whether a
    /// normal request on another connection was answered while the trickle went on.
    struct Trickle: Sendable {
        var closedByServer = false
        var answer = ""
        var otherStatusLine = ""
    }

    /// Sends `prefix` at once, then `trickled` one byte every 100 ms (at most `limit` seconds), asks `/healthz` on a
    /// second connection after half a second, and stops once the server answers or closes. Runs off the cooperative
    /// pool, which the server's handlers need.
    static func trickle(port: Int, prefix: [UInt8], trickled: [UInt8], limit: Double) async throws -> Trickle {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let slow = try RawConnection(port: port)
                    var outcome = Trickle()
                    var received: [UInt8] = []
                    let started = Date()
                    var bytes = trickled[...]
                    if !prefix.isEmpty && !slow.send(prefix) { outcome.closedByServer = true }
                    while !outcome.closedByServer && Date().timeIntervalSince(started) < limit {
                        if outcome.otherStatusLine.isEmpty && Date().timeIntervalSince(started) > 0.5 {
                            outcome.otherStatusLine = try Self.healthz(port: port)
                        }
                        guard let more = slow.poll() else {
                            outcome.closedByServer = true
                            break
                        }
                        received += more
                        if received.contains(UInt8(ascii: "\n")) { break }
                        if let next = bytes.popFirst(), !slow.send([next]) {
                            outcome.closedByServer = true
                            break
                        }
                        Thread.sleep(forTimeInterval: 0.1)
                    }
                    outcome.answer = String(decoding: received, as: UTF8.self)
                    continuation.resume(returning: outcome)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// `GET /healthz` on a new connection; the status line.
    static func healthz(port: Int) throws -> String {
        let connection = try RawConnection(port: port)
        _ = connection.send(Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8))
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(10)
        while !received.contains(UInt8(ascii: "\n")) && Date() < deadline {
            guard let more = connection.poll() else { break }
            received += more
            if more.isEmpty { Thread.sleep(forTimeInterval: 0.01) }
        }
        return String(decoding: received, as: UTF8.self).split(separator: "\r\n").first.map(String.init) ?? ""
    }

    /// Sends `request` on a new connection and reads until the server closes it, or until `grace` seconds after the
    /// whole response (header and `Content-Length` body) arrived, or `wait` seconds in all (a busy machine may take
    /// a while to answer): what it answered, and whether it closed the connection.
    static func exchange(port: Int, _ request: String, wait: Double, grace: Double = 3) throws -> (answer: String, closed: Bool) {
        let connection = try RawConnection(port: port)
        guard connection.send(Array(request.utf8)) else { return ("", true) }
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(wait)
        var complete: Date?
        while Date() < deadline, complete.map({ Date().timeIntervalSince($0) < grace }) ?? true {
            guard let more = connection.poll() else {
                return (String(decoding: received, as: UTF8.self), true)
            }
            received += more
            if more.isEmpty { Thread.sleep(forTimeInterval: 0.01) }
            let text = String(decoding: received, as: UTF8.self)
            if complete == nil, let end = text.range(of: "\r\n\r\n") {
                let length = text[..<end.lowerBound].split(separator: "\r\n")
                    .first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if text[end.upperBound...].utf8.count >= length { complete = Date() }
            }
        }
        return (String(decoding: received, as: UTF8.self), false)
    }

    @Test("Refused requests (400, 401, 404, 405) say Connection: close and the server closes them; a good one stays open")
    func refusalsClose() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        var configuration = RouterTests.configuration()
        configuration.authorities = []
        let identity = try fixture.identity("operator")
        let outcomes = try await VaultServer.withServer(service: try fixture.service(), configuration: configuration) { port in
            let signed = try HTTPMessageSignature.sign(method: "GET", targetURI: "http://vault.example/v1/status", body: [],
                                                       keyID: identity.keyID, key: identity.key)
            let requests = [
                "GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n",
                "GET /v1/status HTTP/1.1\r\nHost: vault.example\r\nContent-Digest: \(signed.contentDigest)\r\n"
                    + "Signature-Input: \(signed.signatureInput)\r\nSignature: \(signed.signature)\r\n\r\n",
                "GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n",
                "DELETE /v1/status HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n",
                "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n",
            ]
            // Off the cooperative pool, which the server's handlers need.
            return try await withCheckedThrowingContinuation { continuation in
                Thread.detachNewThread {
                    continuation.resume(with: Result { try requests.map { try Self.exchange(port: port, $0, wait: 60) } })
                }
            }
        }
        let expected = ["HTTP/1.1 401", "HTTP/1.1 400", "HTTP/1.1 404", "HTTP/1.1 405"]
        for (outcome, status) in zip(outcomes.prefix(4), expected) {
            #expect(outcome.answer.hasPrefix(status), "\(status): \(outcome.answer.prefix(80))")
            #expect(outcome.answer.lowercased().contains("connection: close"), "\(status): \(outcome.answer.prefix(300))")
            #expect(outcome.closed, "\(status): the server kept the connection of a refused request open")
        }
        let good = try #require(outcomes.last)
        #expect(good.answer.hasPrefix("HTTP/1.1 200") && !good.closed, "\(good)")
    }

    @Test("A client trickling its header bytes is disconnected at the idle timeout; another client is answered meanwhile")
    func slowHeaders() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        var configuration = RouterTests.configuration()
        configuration.idleTimeoutSeconds = 1
        let outcome = try await VaultServer.withServer(service: try fixture.service(), configuration: configuration) { port in
            // 400 bytes at 10 a second would take 40 s: the server must cut it off long before.
            let head = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nX-Slow: \(String(repeating: "a", count: 360))".utf8)
            return try await Self.trickle(port: port, prefix: [], trickled: head, limit: 30)
        }
        #expect(outcome.closedByServer, "the server kept a connection whose header never completed: \(outcome.answer)")
        #expect(outcome.answer.isEmpty, "a request whose header never completed was answered: \(outcome.answer)")
        #expect(outcome.otherStatusLine == "HTTP/1.1 200 OK", "\(outcome.otherStatusLine)")
    }

    @Test("A client trickling a signed request's body gets 408 at the request timeout; another client is answered meanwhile")
    func slowBody() async throws {
        let fixture = try ServiceFixture.make()
        defer { fixture.remove() }
        var configuration = RouterTests.configuration()
        configuration.requestTimeoutSeconds = 1
        configuration.authorities = []
        let identity = try fixture.identity("bureau")
        let outcome = try await VaultServer.withServer(service: try fixture.service(), configuration: configuration) { port in
            let body = Array(#"{"by":["subject"]}"#.utf8) + [UInt8](repeating: UInt8(ascii: " "), count: 300)
            let signed = try HTTPMessageSignature.sign(
                method: "POST", targetURI: "http://127.0.0.1:\(port)/v1/queries", body: body, keyID: identity.keyID,
                key: identity.key)
            let head = Array("""
                POST /v1/queries HTTP/1.1\r
                Host: 127.0.0.1:\(port)\r
                Content-Type: application/json\r
                Content-Length: \(body.count)\r
                Content-Digest: \(signed.contentDigest)\r
                Signature-Input: \(signed.signatureInput)\r
                Signature: \(signed.signature)\r
                \r

                """.utf8)
            // The header goes at once; only the body trickles (30 s at 10 bytes a second).
            return try await Self.trickle(port: port, prefix: head, trickled: body, limit: 30)
        }
        #expect(outcome.answer.hasPrefix("HTTP/1.1 408"), "a body trickled past the request timeout got: \(outcome.answer.prefix(80))")
        #expect(outcome.otherStatusLine == "HTTP/1.1 200 OK", "\(outcome.otherStatusLine)")
    }
}
