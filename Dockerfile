# Multi-stage build of pekko-pubsub: Maven builds the runnable jar, a slim JRE runs it.
#   docker build -t pekko-pubsub .
#   docker run --rm -p 8000:8000 pekko-pubsub
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /build
# Dependencies first, so source edits reuse the cached layer.
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q -DskipTests package

FROM eclipse-temurin:17-jre-jammy
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 pubsub \
 && useradd --system --uid 10001 --gid pubsub --home-dir /app pubsub
WORKDIR /app
COPY --from=build /build/target/pekko-pubsub.jar /app/pekko-pubsub.jar
# The operator's file; mount another over it, or set CONFIG_FILE.
COPY application.conf /app/application.conf
# The server's JVM flags (see the file); JAVA_OPTS adds to them.
COPY scripts/jvm.options /app/jvm.options
COPY scripts/healthcheck /app/healthcheck
# A class-data archive (AppCDS) of the server's classes, made by a training run of this jar on this
# JVM (scripts/cds-archive: a topic created, a publish, a subscribe with replay, a live event,
# /health, /stats, /metrics): the server maps them at start instead of reading them from the jar,
# and answers in about half the time. The JDK's own base archive first, should the JRE lack
# it (-Xshare:on fails without one): the class-data archive extends it. As root, before USER: /app
# stays read-only to the server.
COPY scripts/cds-archive /app/cds-archive
RUN { java -Xshare:on -version >/dev/null 2>&1 || java -Xshare:dump >/dev/null; } \
 && bash /app/cds-archive /app/pekko-pubsub.jar /app/pekko-pubsub.jsa
# A fixed uid/gid, so that files mounted into the container (TLS certificate and key) can be
# given to it on the host: chown 10001 (README, Docker). Numeric, so that Kubernetes'
# runAsNonRoot can tell it is not root.
USER 10001:10001
# No HOST or PORT here: environment variables beat the file, so they would hide a mounted file's
# http.host and http.port. The image's application.conf says 0.0.0.0 and 8000.
ENV JAVA_OPTS="-XX:MaxRAMPercentage=75"
# Where the server writes, once bound, the URL it serves (and whether it asks for client
# certificates), whichever file or variable set them; the health check reads it. In /tmp, which
# the JVM needs writable anyway (hsperfdata), also under a read-only root filesystem.
ENV ENDPOINT_FILE=/tmp/pekko-pubsub.endpoint
EXPOSE 8000
# GET /health at the URL in ENDPOINT_FILE (http, or https with TLS); under mutual TLS the server
# answers only clients that present a certificate: the check takes one from HEALTHCHECK_CERT and
# HEALTHCHECK_KEY (see scripts/healthcheck). bash and curl, no JVM: it runs every 10 s. Run by
# bash, whatever mode the file was checked out with.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["bash", "/app/healthcheck"]
# exec form through sh -c 'exec ...': the JVM replaces the shell as PID 1 and gets SIGTERM itself,
# runs the orderly drain (info shutting_down, flush, close 1001) and exits 0.
ENTRYPOINT ["sh", "-c", "exec java @/app/jvm.options -XX:SharedArchiveFile=/app/pekko-pubsub.jsa $JAVA_OPTS -jar /app/pekko-pubsub.jar"]
