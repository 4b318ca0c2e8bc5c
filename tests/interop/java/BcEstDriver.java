/*
 * BcEstDriver: a small command-line EST (RFC 7030) client built on the Bouncy Castle
 * EST client API (org.bouncycastle.est, bcpkix 1.72). The interop tests use it to show
 * that our reference EST server works with a client that nobody here wrote.
 *
 *   java -cp OUT:bcprov.jar:bcpkix.jar:bcutil.jar BcEstDriver <command> [options]
 *     cacerts  --server https://H:P --trust-anchor ROOT.pem --out CACERTS.pem
 *     enroll   --server ... --trust-anchor ... --epoc EPOC --pin-file F --key-out K.pem --cert-out C.pem
 *              [--auth-mode preemptive|challenge]   (see basicAuth below)
 *     reenroll --server ... --trust-anchor ... --cert C.pem --key K.pem --key-out K2.pem --cert-out C2.pem
 *
 * The server's TLS certificate is checked against the PEM trust anchor only, and BC's
 * JsseDefaultHostnameAuthorizer checks the host name. Exit codes: 0 ok, 1 failure, 2 usage.
 */
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import javax.security.auth.x500.X500Principal;

import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.est.CACertsResponse;
import org.bouncycastle.est.ESTException;
import org.bouncycastle.est.ESTService;
import org.bouncycastle.est.EnrollmentResponse;
import org.bouncycastle.est.ESTAuth;
import org.bouncycastle.est.jcajce.JcaHttpAuthBuilder;
import org.bouncycastle.est.jcajce.JsseESTServiceBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

public class BcEstDriver {
    private static final String USAGE = String.join("\n",
        "usage: BcEstDriver <command> --server https://HOST:PORT --trust-anchor ROOT.pem [options]",
        "  cacerts  --out FILE.pem",
        "  enroll   --epoc EPOC --pin-file FILE --key-out KEY.pem --cert-out CERT.pem [--auth-mode preemptive|challenge]",
        "  reenroll --cert CERT.pem --key KEY.pem --key-out NEWKEY.pem --cert-out NEWCERT.pem");
    private static final Map<String, Set<String>> COMMANDS = Map.of(
        "cacerts", Set.of("out"),
        "enroll", Set.of("epoc", "pin-file", "key-out", "cert-out", "auth-mode"),
        "reenroll", Set.of("cert", "key", "key-out", "cert-out"));
    private static final long RETRY_BUDGET_MS = 60_000;

    /** Thrown for command-line mistakes; leads to exit status 2. */
    static final class UsageError extends Exception {
        private static final long serialVersionUID = 1L;
        UsageError(String msg) { super(msg); }
    }

    public static void main(String[] args) {
        Map<String, String> opts;
        try {
            opts = parseArgs(args);
        } catch (UsageError e) {
            System.err.println("error: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        try {
            switch (args[0]) {
                case "cacerts" -> cacerts(opts);
                case "enroll" -> enroll(opts);
                default -> reenroll(opts);
            }
            System.exit(0);
        } catch (Throwable t) {
            System.err.println("error: " + describe(t));
            if (t instanceof ESTException e && e.getBody() != null) {
                try {
                    String body = new String(e.getBody().readAllBytes(), StandardCharsets.UTF_8).strip();
                    if (!body.isEmpty()) System.err.println("response body: " + body.replaceAll("\\s+", " "));
                } catch (IOException ignored) { /* body is best-effort */ }
            }
            System.exit(1);
        }
    }

    static Map<String, String> parseArgs(String[] args) throws UsageError {
        if (args.length == 0) throw new UsageError("no command given");
        Set<String> allowed = COMMANDS.get(args[0]);
        if (allowed == null) throw new UsageError("unknown command: " + args[0]);
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            String name = args[i].startsWith("--") ? args[i].substring(2) : "";
            if (!allowed.contains(name) && !name.equals("server") && !name.equals("trust-anchor"))
                throw new UsageError("unexpected argument: " + args[i]);
            if (i + 1 >= args.length) throw new UsageError("missing value for " + args[i]);
            opts.put(name, args[i + 1]);
        }
        List<String> required = new ArrayList<>(allowed);
        required.addAll(List.of("server", "trust-anchor"));
        required.remove("auth-mode"); // the only optional option
        for (String r : required)
            if (!opts.containsKey(r)) throw new UsageError("missing --" + r);
        if (!List.of("preemptive", "challenge").contains(opts.getOrDefault("auth-mode", "preemptive")))
            throw new UsageError("--auth-mode must be preemptive or challenge");
        opts.put("authority", authority(opts.get("server")));
        return opts;
    }

    /** BC wants "host:port" without scheme; it adds https:// and /.well-known/est itself. */
    static String authority(String server) throws UsageError {
        URI uri;
        try {
            uri = new URI(server);
        } catch (java.net.URISyntaxException e) {
            throw new UsageError("bad --server: " + e.getMessage());
        }
        if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null)
            throw new UsageError("--server must look like https://HOST:PORT");
        String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
        if (!path.isEmpty() && !path.equals("/.well-known/est"))
            throw new UsageError("--server must not contain a path other than /.well-known/est");
        return uri.getPort() == -1 ? uri.getRawAuthority() + ":443" : uri.getRawAuthority();
    }

    /** One line: exception class and message, HTTP status for ESTException, plus the root cause. */
    static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(t.getClass().getName());
        String msg = String.valueOf(t.getMessage());
        if (t instanceof ESTException e) {
            sb.append(" (HTTP status ").append(e.getStatusCode()).append(")");
            msg = msg.replaceFirst(" HTTP Status Code: -?\\d+$", ""); // BC appends this itself
        }
        sb.append(": ").append(msg);
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        if (root != t) sb.append(" [caused by ").append(root.getClass().getName()).append(": ").append(root.getMessage()).append("]");
        return sb.toString();
    }

    // ---- commands ------------------------------------------------------------------------

    static void cacerts(Map<String, String> o) throws Exception {
        ESTService est = service(o, null);
        CACertsResponse resp = est.getCACerts();
        if (!resp.hasCertificates()) throw new IOException("cacerts response contained no certificates");
        X509CertificateHolder[] certs = ESTService.storeToArray(resp.getCertificateStore());
        StringBuilder out = new StringBuilder();
        for (X509CertificateHolder h : certs) out.append(pem("CERTIFICATE", h.getEncoded()));
        writeFile(Path.of(o.get("out")), out.toString(), false);
        System.out.println("cacerts " + certs.length);
    }

    static void enroll(Map<String, String> o) throws Exception {
        String epoc = o.get("epoc");
        char[] pin = Files.readString(Path.of(o.get("pin-file")), StandardCharsets.UTF_8).trim().toCharArray();
        ESTAuth auth = basicAuth(epoc, pin, !"challenge".equals(o.get("auth-mode")));
        KeyPair kp = newRsaKey();
        PKCS10CertificationRequest csr = csr(new X500Name("CN=ignored"), kp, null);
        ESTService est = service(o, null);
        X509Certificate issued = runEnroll(est, false, csr, auth, kp.getPublic());
        writeOutputs(o, kp.getPrivate(), issued);
        System.out.println("enrolled " + issued.getSubjectX500Principal().getName(X500Principal.RFC2253));
    }

    static void reenroll(Map<String, String> o) throws Exception {
        List<X509Certificate> chain = readCerts(Path.of(o.get("cert")));
        if (chain.isEmpty()) throw new IOException("no certificate in " + o.get("cert"));
        X509Certificate current = chain.get(0);
        PrivateKey currentKey = readPrivateKey(Path.of(o.get("key")));

        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        char[] ksPass = "transient".toCharArray();
        ks.setKeyEntry("client", currentKey, ksPass, chain.toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, ksPass);

        // RFC 7030 4.2.2: Subject (and SubjectAltName, if any) must be identical to the current cert.
        X500Name subject = X500Name.getInstance(current.getSubjectX500Principal().getEncoded());
        Extension san = new X509CertificateHolder(current.getEncoded()).getExtension(Extension.subjectAlternativeName);
        KeyPair kp = newRsaKey();
        PKCS10CertificationRequest csr = csr(subject, kp, san);
        ESTService est = service(o, kmf.getKeyManagers());
        X509Certificate issued = runEnroll(est, true, csr, null, kp.getPublic());
        writeOutputs(o, kp.getPrivate(), issued);
        System.out.println("reenrolled " + issued.getSubjectX500Principal().getName(X500Principal.RFC2253));
    }

    // ---- EST plumbing ----------------------------------------------------------------------

    /** Builds an ESTService that trusts only the PEM anchor(s) and verifies the host name. */
    static ESTService service(Map<String, String> o, KeyManager[] keyManagers) throws Exception {
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        List<X509Certificate> roots = readCerts(Path.of(o.get("trust-anchor")));
        if (roots.isEmpty()) throw new IOException("no certificate in trust anchor file " + o.get("trust-anchor"));
        for (int i = 0; i < roots.size(); i++) anchors.setCertificateEntry("anchor" + i, roots.get(i));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(anchors);
        X509TrustManager[] tms = Arrays.stream(tmf.getTrustManagers())
            .filter(tm -> tm instanceof X509TrustManager).map(tm -> (X509TrustManager) tm)
            .toArray(X509TrustManager[]::new);

        // The (String, X509TrustManager[]) constructor keeps BC's default JsseDefaultHostnameAuthorizer.
        JsseESTServiceBuilder b = new JsseESTServiceBuilder(o.get("authority"), tms);
        if (keyManagers != null) b.withKeyManagers(keyManagers);
        b.withTimeout(30_000);
        return b.build();
    }

    /** simpleenroll / simplereenroll, following 202 + Retry-After for up to 60 s. */
    static X509Certificate runEnroll(ESTService est, boolean re, PKCS10CertificationRequest csr,
                                     ESTAuth auth, PublicKey ourKey) throws Exception {
        long deadline = System.currentTimeMillis() + RETRY_BUDGET_MS;
        EnrollmentResponse r = est.simpleEnroll(re, csr, auth);
        while (!r.isCompleted()) {
            long wait = Math.max(r.getNotBefore() - System.currentTimeMillis(), 0) + 500;
            if (System.currentTimeMillis() + wait > deadline)
                throw new IOException("server still answering 202 Accepted after " + RETRY_BUDGET_MS / 1000 + " s");
            System.err.println("202 Accepted, retrying in " + wait + " ms");
            Thread.sleep(wait);
            r = est.simpleEnroll(r); // re-sends the same request (including any Authorization header)
        }
        if (r.getStore() == null) throw new IOException("enrollment response carried no certificate store");
        JcaX509CertificateConverter conv = new JcaX509CertificateConverter();
        for (X509CertificateHolder h : ESTService.storeToArray(r.getStore())) {
            X509Certificate c = conv.getCertificate(h);
            if (Arrays.equals(c.getPublicKey().getEncoded(), ourKey.getEncoded())) return c;
        }
        throw new IOException("no certificate in the response matches the requested public key");
    }

    /**
     * HTTP Basic auth. "challenge" uses BC's stock HttpAuth (via JcaHttpAuthBuilder, no realm pinned):
     * it sends no credentials, waits for 401 + WWW-Authenticate: Basic, then resends with them. In
     * bcpkix 1.72 that only works if the 401 has an empty body: HttpAuth closes the 401 response
     * unread and ESTResponse.close() then throws "Stream closed before limit fully read" (cf.
     * bc-java issue #781). "preemptive" (default) sends the Authorization header on the first
     * request through the public ESTAuth interface, so any 401 reaches us as a normal ESTException.
     */
    static ESTAuth basicAuth(String user, char[] pin, boolean preemptive) throws Exception {
        if (!preemptive) return new JcaHttpAuthBuilder(user, pin).build();
        if (user.contains(":")) throw new IllegalArgumentException("EPOC must not contain ':'");
        byte[] userPass = (user + ":" + new String(pin)).getBytes(StandardCharsets.UTF_8);
        String header = "Basic " + Base64.getEncoder().encodeToString(userPass);
        return reqBuilder -> reqBuilder.setHeader("Authorization", header);
    }

    static PKCS10CertificationRequest csr(X500Name subject, KeyPair kp, Extension san) throws Exception {
        PKCS10CertificationRequestBuilder b = new JcaPKCS10CertificationRequestBuilder(subject, kp.getPublic());
        if (san != null) {
            ExtensionsGenerator g = new ExtensionsGenerator();
            g.addExtension(san);
            b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, g.generate());
        }
        return b.build(new JcaContentSignerBuilder("SHA256withRSA").build(kp.getPrivate()));
    }

    static KeyPair newRsaKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        return g.generateKeyPair();
    }

    // ---- files -----------------------------------------------------------------------------

    static List<X509Certificate> readCerts(Path p) throws Exception {
        List<X509Certificate> out = new ArrayList<>();
        try (InputStream in = Files.newInputStream(p)) {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in))
                out.add((X509Certificate) c);
        }
        return out;
    }

    static PrivateKey readPrivateKey(Path p) throws Exception {
        try (PEMParser pp = new PEMParser(Files.newBufferedReader(p, StandardCharsets.US_ASCII))) {
            Object obj = pp.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            if (obj instanceof PrivateKeyInfo pki) return conv.getPrivateKey(pki);   // PKCS#8 "PRIVATE KEY"
            if (obj instanceof PEMKeyPair pkp) return conv.getPrivateKey(pkp.getPrivateKeyInfo()); // PKCS#1 / SEC1
            throw new IOException("unsupported or encrypted private key in " + p);
        }
    }

    static void writeOutputs(Map<String, String> o, PrivateKey key, X509Certificate cert) throws Exception {
        writeFile(Path.of(o.get("key-out")), pem("PRIVATE KEY", key.getEncoded()), true); // getEncoded() is PKCS#8
        writeFile(Path.of(o.get("cert-out")), pem("CERTIFICATE", cert.getEncoded()), false);
    }

    static String pem(String type, byte[] der) throws IOException {
        StringWriter sw = new StringWriter();
        try (PemWriter pw = new PemWriter(sw)) {
            pw.writeObject(new PemObject(type, der));
        }
        return sw.toString();
    }

    static void writeFile(Path p, String content, boolean secret) throws IOException {
        if (secret) {
            try {
                if (!Files.exists(p))
                    Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                else
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) { /* non-POSIX file system */ }
        }
        Files.writeString(p, content, StandardCharsets.US_ASCII,
            StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
    }
}
