package interop;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.EnableKafka;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.KafkaListenerErrorHandler;
import org.springframework.kafka.requestreply.KafkaReplyTimeoutException;
import org.springframework.kafka.requestreply.ReplyingKafkaTemplate;
import org.springframework.kafka.support.KafkaHeaders;
import org.springframework.kafka.support.TopicPartitionOffset;
import org.springframework.messaging.handler.annotation.SendTo;
import org.springframework.messaging.support.MessageBuilder;
import org.springframework.stereotype.Component;

/**
 * A plain Spring for Apache Kafka application (no Spring Boot) for
 * test/integration/request-reply/spring-interop.test.ts; nothing of the Node project on this side.
 *
 *   responder  a @KafkaListener on REQUEST_TOPIC with @SendTo: a plain reply (no status header); a
 *              productId starting with "out-of-stock-" throws, and the listener's KafkaListenerErrorHandler
 *              answers with the exception in KafkaHeaders.EXCEPTION_FQCN / EXCEPTION_MESSAGE
 *   requester  a ReplyingKafkaTemplate sending COUNT requests to REQUEST_TOPIC, CONCURRENCY at a time,
 *              replies read on partition 0 of REPLY_TOPIC; then one request for ERROR_PRODUCT_ID, whose
 *              error reply its replyErrorChecker turns into an exception. Prints one JSON line.
 *
 * Environment: KAFKA_BROKERS, REQUEST_TOPIC, REPLY_TOPIC, GROUP_ID, COUNT, CONCURRENCY, ERROR_PRODUCT_ID.
 * Prints "ready" once it can serve (responder: partitions assigned) or send (requester).
 */
public final class SpringInterop {

  static String env(String name, String fallback) {
    String value = System.getenv(name);
    if (value == null || value.isEmpty()) {
      if (fallback == null) {
        throw new IllegalStateException(name + " is required");
      }
      return fallback;
    }
    return value;
  }

  static final Pattern PRODUCT_ID = Pattern.compile("\"productId\"\\s*:\\s*\"([^\"]*)\"");
  static final Pattern QUANTITY = Pattern.compile("\"quantity\"\\s*:\\s*(\\d+)");

  static String field(Pattern pattern, String json) {
    Matcher m = pattern.matcher(json);
    return m.find() ? m.group(1) : null;
  }

  static String json(String s) {
    return s == null ? "null" : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  static Map<String, Object> producerProps() {
    return Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, env("KAFKA_BROKERS", null),
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.LINGER_MS_CONFIG, 0);
  }

  static Map<String, Object> consumerProps() {
    return Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, env("KAFKA_BROKERS", null),
        ConsumerConfig.GROUP_ID_CONFIG, env("GROUP_ID", null),
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        // a fresh topic per test: nothing sent while the consumer was joining is skipped
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
  }

  @Configuration
  @EnableKafka
  static class ResponderConfig {
    @Bean
    KafkaTemplate<String, String> kafkaTemplate() {
      return new KafkaTemplate<>(new DefaultKafkaProducerFactory<>(producerProps()));
    }

    @Bean
    ConcurrentKafkaListenerContainerFactory<String, String> kafkaListenerContainerFactory(
        KafkaTemplate<String, String> template) {
      ConcurrentKafkaListenerContainerFactory<String, String> factory = new ConcurrentKafkaListenerContainerFactory<>();
      factory.setConsumerFactory(new DefaultKafkaConsumerFactory<>(consumerProps()));
      factory.setReplyTemplate(template);
      factory.setConcurrency(3);
      return factory;
    }

    /** What a Spring service answers when its listener throws: the exception in Spring's own headers. */
    @Bean
    KafkaListenerErrorHandler quoteErrorHandler() {
      return (message, exception) -> {
        Throwable cause = exception.getCause() != null ? exception.getCause() : exception;
        return MessageBuilder.withPayload("{}")
            .setHeader(KafkaHeaders.EXCEPTION_FQCN, cause.getClass().getName().getBytes(StandardCharsets.UTF_8))
            .setHeader(KafkaHeaders.EXCEPTION_MESSAGE, String.valueOf(cause.getMessage()).getBytes(StandardCharsets.UTF_8))
            .build();
      };
    }

    @Bean
    QuoteListener quoteListener() {
      return new QuoteListener();
    }
  }

  @Component
  static class QuoteListener {
    final CountDownLatch assigned = new CountDownLatch(1);

    @KafkaListener(id = "quotes", topics = "${REQUEST_TOPIC}", errorHandler = "quoteErrorHandler")
    @SendTo
    public String quote(String request) {
      String productId = field(PRODUCT_ID, request);
      long quantity = Long.parseLong(field(QUANTITY, request));
      if (productId.startsWith("out-of-stock-")) {
        throw new IllegalStateException(productId + " is out of stock");
      }
      return "{\"productId\":" + json(productId) + ",\"quantity\":" + quantity + ",\"totalCents\":"
          + (quantity * 300) + ",\"by\":\"spring\"}";
    }
  }

  static void responder() throws Exception {
    AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
    context.getEnvironment().getSystemProperties().put("REQUEST_TOPIC", env("REQUEST_TOPIC", null));
    context.register(ResponderConfig.class);
    context.refresh();
    Runtime.getRuntime().addShutdownHook(new Thread(context::close));
    // ready when the listener's consumers have their partitions
    var registry = context.getBean(
        org.springframework.kafka.config.KafkaListenerEndpointRegistry.class);
    var container = registry.getListenerContainer("quotes");
    long deadline = System.currentTimeMillis() + 60_000;
    while (container.getAssignedPartitions() == null || container.getAssignedPartitions().isEmpty()) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("no partition assigned within 60 s");
      }
      Thread.sleep(50);
    }
    System.out.println("ready");
    Thread.currentThread().join();
  }

  static void requester() throws Exception {
    String requestTopic = env("REQUEST_TOPIC", null);
    String replyTopic = env("REPLY_TOPIC", null);
    int count = Integer.parseInt(env("COUNT", "300"));
    int concurrency = Integer.parseInt(env("CONCURRENCY", "16"));
    ConcurrentKafkaListenerContainerFactory<String, String> factory = new ConcurrentKafkaListenerContainerFactory<>();
    factory.setConsumerFactory(new DefaultKafkaConsumerFactory<>(consumerProps()));
    // one reply partition for this instance: the template sends it as kafka_replyPartition (4-byte int)
    ConcurrentMessageListenerContainer<String, String> replies =
        factory.createContainer(new TopicPartitionOffset(replyTopic, 0));
    ReplyingKafkaTemplate<String, String, String> template =
        new ReplyingKafkaTemplate<>(new DefaultKafkaProducerFactory<>(producerProps()), replies);
    template.setDefaultReplyTimeout(Duration.ofSeconds(10));
    // how a Spring requester reads this project's error replies: x-reply-status 4xx/5xx is an error
    template.setReplyErrorChecker(record -> {
      Header status = record.headers().lastHeader("x-reply-status");
      if (status == null) {
        return null;
      }
      String code = new String(status.value(), StandardCharsets.UTF_8);
      return code.startsWith("4") || code.startsWith("5")
          ? new IllegalStateException("status " + code + ": " + record.value())
          : null;
    });
    template.start();
    if (!template.waitForAssignment(Duration.ofSeconds(30))) {
      throw new IllegalStateException("the reply container was not assigned within 30 s");
    }
    System.out.println("ready");

    AtomicInteger next = new AtomicInteger();
    AtomicInteger replied = new AtomicInteger();
    AtomicInteger mismatches = new AtomicInteger();
    AtomicInteger timeouts = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    List<String> samples = java.util.Collections.synchronizedList(new ArrayList<>());
    long started = System.currentTimeMillis();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    for (int t = 0; t < concurrency; t++) {
      pool.execute(() -> {
        for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
          String productId = "spring-" + i;
          String request = "{\"productId\":" + json(productId) + ",\"quantity\":" + (i + 1) + "}";
          try {
            ConsumerRecord<String, String> reply =
                template.sendAndReceive(new ProducerRecord<>(requestTopic, productId, request)).get(30, TimeUnit.SECONDS);
            if (productId.equals(field(PRODUCT_ID, reply.value()))
                && String.valueOf(i + 1).equals(field(QUANTITY, reply.value()))) {
              replied.incrementAndGet();
            } else {
              mismatches.incrementAndGet();
              if (samples.size() < 3) samples.add(json(request + " -> " + reply.value()));
            }
          } catch (ExecutionException e) {
            if (e.getCause() instanceof KafkaReplyTimeoutException) timeouts.incrementAndGet();
            else errors.incrementAndGet();
            if (samples.size() < 3) samples.add(json(request + " -> " + e.getCause()));
          } catch (Exception e) {
            errors.incrementAndGet();
            if (samples.size() < 3) samples.add(json(request + " -> " + e));
          }
        }
      });
    }
    pool.shutdown();
    pool.awaitTermination(5, TimeUnit.MINUTES);
    long elapsed = System.currentTimeMillis() - started;

    String errorReply = "null";
    String errorProductId = env("ERROR_PRODUCT_ID", "");
    if (!errorProductId.isEmpty()) {
      String request = "{\"productId\":" + json(errorProductId) + ",\"quantity\":1}";
      try {
        ConsumerRecord<String, String> reply =
            template.sendAndReceive(new ProducerRecord<>(requestTopic, errorProductId, request)).get(30, TimeUnit.SECONDS);
        errorReply = "{\"unexpectedSuccess\":" + json(reply.value()) + "}";
      } catch (ExecutionException e) {
        errorReply = "{\"exception\":" + json(e.getCause().getClass().getName()) + ",\"message\":"
            + json(e.getCause().getMessage()) + "}";
      }
    }
    System.out.println("{\"result\":{\"sent\":" + count + ",\"replies\":" + replied.get() + ",\"mismatches\":"
        + mismatches.get() + ",\"timeouts\":" + timeouts.get() + ",\"errors\":" + errors.get() + ",\"elapsedMs\":"
        + elapsed + ",\"samples\":" + samples + ",\"errorReply\":" + errorReply + "}}");
    template.stop();
    template.destroy();
  }

  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "";
    if (mode.equals("responder")) {
      responder();
    } else if (mode.equals("requester")) {
      requester();
      System.exit(0);
    } else {
      throw new IllegalArgumentException("mode? " + mode);
    }
  }

  private SpringInterop() {}
}
