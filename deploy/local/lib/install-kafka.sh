# shellcheck shell=bash
# Installs Kafka from Maven Central: org.apache.kafka:kafka_2.13 and its runtime dependencies, copied as jars
# into $KLAGG_CACHE/tools/kafka-<version>/libs by Maven (plus log4j2 so the broker logs to its run dir).

install_kafka() {
  local dir="$KLAGG_CACHE/tools/kafka-$KAFKA_VERSION"
  [[ -f $dir/.complete ]] && return 0
  command -v mvn >/dev/null || die "Maven (mvn) not found: install the Debian package 'maven'"
  command -v java >/dev/null || die "Java not found: install the Debian package 'openjdk-17-jre-headless'"
  local build="$KLAGG_CACHE/build/kafka-$KAFKA_VERSION" log="$KLAGG_CACHE/build/kafka-$KAFKA_VERSION.log"
  mkdir -p "$KLAGG_CACHE/build"
  exec 8>"$build.lock"
  flock 8
  [[ -f $dir/.complete ]] && { exec 8>&-; return 0; }
  rm -rf "$build" "$dir" && mkdir -p "$build"
  cat >"$build/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>klagg.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  info "installing Kafka $KAFKA_VERSION jars from Maven Central (log: $log)"
  if ! (cd "$build" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$dir/libs" >"$log" 2>&1); then
    tail -n 30 "$log" >&2
    die "install failed: Maven could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION (Maven Central); see $log"
  fi
  touch "$dir/.complete"
  exec 8>&-
}
