import CCurl
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import VaultApp

/// Every client request, through libcurl's blocking `curl_easy_perform`: the calling thread sleeps in `poll(2)` until
/// the server answers or a timeout passes, so waiting for a slow or saturated server costs no CPU. (FoundationNetworking's
/// URLSession, used before, hands requests to the same libcurl but spun a core while a server kept it waiting: 3.75 s
/// user + 17.8 s system CPU over a 28 s wait; it also cannot be told a CA file.)
enum CurlTransport {
    /// How long a request may take.
    struct Timeouts: Sendable, Equatable {
        /// To establish the TCP (and TLS) connection.
        var connectSeconds = 30
        /// With no byte sent or received (the server accepted the connection but does not answer).
        var stalledSeconds = 300
        /// For the whole request, a batch upload included.
        var totalSeconds = 900
    }

    /// The response body, collected by libcurl's write callback (bounded).
    final class Sink {
        var data = Data()
        var overflow = false
    }

    static func check(_ code: CURLcode, _ what: String) throws(AppError) {
        guard code == CURLE_OK else {
            let reason = String(cString: curl_easy_strerror(code))
            throw AppError(.unavailable, "cannot reach the server (\(what): \(reason))")
        }
    }

    /// The one line for a failed transfer.
    static func failure(_ code: CURLcode, _ handle: UnsafeMutableRawPointer, _ timeouts: Timeouts) -> AppError {
        guard code == CURLE_OPERATION_TIMEDOUT else {
            let reason = String(cString: curl_easy_strerror(code))
            return AppError(.unavailable, "cannot reach the server: \(reason)")
        }
        var connected = 0.0, total = 0.0
        _ = ecurl_getinfo_double(handle, CURLINFO_CONNECT_TIME, &connected)
        _ = ecurl_getinfo_double(handle, CURLINFO_TOTAL_TIME, &total)
        if connected == 0 {
            return AppError(.unavailable, "cannot connect to the server within \(timeouts.connectSeconds) s; is it running, and is --server right?")
        }
        if total + 1 < Double(timeouts.totalSeconds) {
            return AppError(.unavailable, "the server accepted the connection but sent nothing for \(timeouts.stalledSeconds) s (overloaded?); try again later")
        }
        return AppError(.unavailable, "the request took longer than \(timeouts.totalSeconds) s; gave up")
    }

    /// Easy handles kept between requests for the connections they keep open (keep-alive); each is used by one request
    /// at a time.
    final class Pool: Sendable {
        /// An easy handle; freed in `deinit`.
        final class Handle: @unchecked Sendable {
            // @unchecked: a handle is used by one request at a time: `take` hands it out, `put` takes it back.
            let raw: UnsafeMutableRawPointer
            init?() {
                guard let raw = curl_easy_init() else { return nil }
                self.raw = raw
            }
            deinit { curl_easy_cleanup(raw) }
        }

        let idle = Mutex<[Handle]>([])
        /// Idle handles kept (and so open connections at most).
        static let keep = 8

        func take() -> Handle? { idle.withLock { $0.popLast() } ?? Handle() }
        func put(_ handle: Handle) { idle.withLock { if $0.count < Self.keep { $0.append(handle) } } }
    }

    /// Performs `request`, blocking the calling thread until the response or a timeout, trusting only the certificates
    /// in `caFile` when it is not empty (else the system trust store).
    ///
    /// - Returns: the response, or `.unavailable` with one line: no connection within `connectSeconds`, nothing
    ///   received for `stalledSeconds`, the whole request over `totalSeconds`, a TLS failure, or a response over
    ///   `maxBytes`.
    static func perform(_ request: URLRequest, caFile: String, timeouts: Timeouts, maxBytes: Int, pool: Pool)
        -> Result<VaultHTTPClient.Response, AppError>
    {
        Result { () throws(AppError) -> VaultHTTPClient.Response in
            guard let url = request.url?.absoluteString, let pooled = pool.take() else {
                throw AppError(.unavailable, "libcurl could not start a request")
            }
            let handle = pooled.raw
            // Options are per request; the handle's open connections survive the reset.
            curl_easy_reset(handle)
            var reusable = false
            defer { if reusable { pool.put(pooled) } }
            // libcurl copies string options.
            try check(url.withCString { ecurl_setopt_pointer(handle, CURLOPT_URL, $0) }, "URL")
            if !caFile.isEmpty {
                try check(caFile.withCString { ecurl_setopt_pointer(handle, CURLOPT_CAINFO, $0) }, "CA file")
            }
            try check(ecurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1), "verify peer")
            try check(ecurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2), "verify host")
            try check(ecurl_setopt_long(handle, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS)), "protocols")
            try check(ecurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0), "redirects")
            try check(ecurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "signals")
            try check(ecurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, timeouts.connectSeconds), "connect timeout")
            try check(ecurl_setopt_long(handle, CURLOPT_TIMEOUT, timeouts.totalSeconds), "timeout")
            // Under 1 byte a second for `stalledSeconds`: the server is not answering.
            try check(ecurl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1), "stall limit")
            try check(ecurl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, timeouts.stalledSeconds), "stall time")
            let body = request.httpBody ?? Data()
            if request.httpMethod == "POST" {
                try check(ecurl_setopt_long(handle, CURLOPT_POST, 1), "POST")
                try check(ecurl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "body size")
                let bytes = [UInt8](body) + [0]  // never an empty buffer; the size above says how much is sent
                try check(bytes.withUnsafeBytes { ecurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }, "body")
            } else {
                try check(ecurl_setopt_long(handle, CURLOPT_HTTPGET, 1), "GET")
            }
            var list: UnsafeMutablePointer<curl_slist>? = nil
            defer { curl_slist_free_all(list) }
            var lines = (request.allHTTPHeaderFields ?? [:]).map { "\($0.key): \($0.value)" }
            lines.append("Expect:")
            for line in lines {
                guard let next = curl_slist_append(list, line) else { throw AppError(.unavailable, "libcurl: out of memory") }
                list = next
            }
            try check(ecurl_setopt_pointer(handle, CURLOPT_HTTPHEADER, list), "headers")
            let sink = Sink()
            let context = Unmanaged.passRetained(sink)
            defer { context.release() }
            try check(ecurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque()), "sink")
            let write: ecurl_write_callback = { data, size, count, context in
                guard let data, let context else { return 0 }
                let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
                let bytes = size * count
                guard sink.data.count + bytes <= 512 << 20 else {
                    sink.overflow = true
                    return 0
                }
                data.withMemoryRebound(to: UInt8.self, capacity: bytes) { sink.data.append($0, count: bytes) }
                return bytes
            }
            try check(ecurl_setopt_write(handle, CURLOPT_WRITEFUNCTION, write), "write callback")
            let code = curl_easy_perform(handle)
            // The header list and the sink are freed after this call; the handle must not point at them later.
            _ = ecurl_setopt_pointer(handle, CURLOPT_HTTPHEADER, nil)
            _ = ecurl_setopt_pointer(handle, CURLOPT_WRITEDATA, nil)
            guard code == CURLE_OK else { throw failure(code, handle, timeouts) }
            guard !sink.overflow, sink.data.count <= maxBytes else { throw AppError(.unavailable, "the response is too large") }
            var status = 0
            try check(ecurl_response_code(handle, &status), "status")
            reusable = true
            return VaultHTTPClient.Response(status: status, body: sink.data, contentType: nil)
        }
    }
}
