package pekkopubsub.connection;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where one connection sends each request: through the TopicManager, or straight to the topic's
 * actor once the connection has published to the topic and learnt its address, one hop less per
 * publish. No request overtakes an earlier one for the same topic.
 *
 * <p>A request goes straight to the topic only when every request sent to it through the manager
 * has been answered (so all of those are in the topic's mailbox already). Requests sent straight
 * to a topic that has stopped (deleted) are never answered by it: {@link #stopped} hands them back,
 * oldest first, to be sent again through the manager, which answers them as it would have from
 * the start (the topic missing, or its new incarnation).
 *
 * @param <A> the address of a topic's actor
 * @param <Q> a request
 */
final class TopicRoutes<A, Q> {

  private static final class Route<A, Q> {
    A actor;
    boolean locating;
    int unansweredViaManager;
    /** Sent straight to {@code actor} and not answered yet, oldest first; null while none. */
    ArrayDeque<Q> unansweredDirect;

    boolean forgettable() {
      return actor == null && !locating && unansweredViaManager == 0
          && (unansweredDirect == null || unansweredDirect.isEmpty());
    }
  }

  /**
   * Only topics with a request in flight, being located, or located; null while there are none
   * (most connections only subscribe).
   */
  private Map<String, Route<A, Q>> routes;

  /**
   * Records {@code request} as sent and returns where it goes: the topic's actor, or null for the
   * manager.
   */
  A target(String topic, Q request) {
    Route<A, Q> route = route(topic, true);
    if (route.actor != null && route.unansweredViaManager == 0) {
      if (route.unansweredDirect == null) route.unansweredDirect = new ArrayDeque<>(4);
      route.unansweredDirect.add(request);
      return route.actor;
    }
    route.unansweredViaManager++;
    return null;
  }

  /**
   * Where a message that is never answered goes, behind every request sent before it: the topic's
   * actor, or null for the manager. Nothing is recorded.
   */
  A targetUnanswered(String topic) {
    Route<A, Q> route = route(topic, false);
    return route != null && route.actor != null && route.unansweredViaManager == 0 ? route.actor : null;
  }

  /**
   * Whether to ask the manager for the topic's actor, which is then {@link #located} or
   * {@link #notLocated}: when it is neither known nor asked for already.
   */
  boolean shouldLocate(String topic) {
    Route<A, Q> route = route(topic, true);
    if (route.actor != null || route.locating) return false;
    route.locating = true;
    return true;
  }

  /**
   * Returns whether {@code actor} is now the topic's route (then watch it, and call
   * {@link #stopped} when it stops): unless the topic was not being located.
   */
  boolean located(String topic, A actor) {
    Route<A, Q> route = route(topic, false);
    if (route == null || !route.locating) return false;
    route.locating = false;
    route.actor = actor;
    return true;
  }

  void notLocated(String topic) {
    Route<A, Q> route = route(topic, false);
    if (route == null) return;
    route.locating = false;
    forgetIfIdle(topic, route);
  }

  /** An answer to a request about {@code topic} came, from the topic or the manager. */
  void answered(String topic) {
    Route<A, Q> route = route(topic, false);
    if (route == null) return;
    if (route.unansweredDirect != null && !route.unansweredDirect.isEmpty()) {
      route.unansweredDirect.poll();
    } else if (route.unansweredViaManager > 0) {
      route.unansweredViaManager--;
    }
    forgetIfIdle(topic, route);
  }

  /**
   * {@code actor} has stopped: the requests sent straight to it and never answered, oldest first.
   * They are recorded as unanswered no more; send them again with {@link #target}.
   */
  List<Q> stopped(A actor) {
    if (routes == null) return List.of();
    for (Map.Entry<String, Route<A, Q>> entry : routes.entrySet()) {
      Route<A, Q> route = entry.getValue();
      if (!actor.equals(route.actor)) continue;
      List<Q> lost = route.unansweredDirect == null ? List.of() : new ArrayList<>(route.unansweredDirect);
      route.actor = null;
      route.unansweredDirect = null;
      forgetIfIdle(entry.getKey(), route);
      return lost;
    }
    return List.of();
  }

  /** How many topics this connection holds a route for (for tests: idle routes are forgotten). */
  int size() {
    return routes == null ? 0 : routes.size();
  }

  private Route<A, Q> route(String topic, boolean create) {
    if (routes == null) {
      if (!create) return null;
      routes = new HashMap<>(4);
    }
    Route<A, Q> route = routes.get(topic);
    if (route == null && create) {
      route = new Route<>();
      routes.put(topic, route);
    }
    return route;
  }

  private void forgetIfIdle(String topic, Route<A, Q> route) {
    if (!route.forgettable()) return;
    routes.remove(topic);
    if (routes.isEmpty()) routes = null;
  }
}
