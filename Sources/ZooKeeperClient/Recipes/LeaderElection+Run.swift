extension LeaderElection {
    /// What a candidate's watch is on.
    enum WatchTarget: Sendable {
        /// The znode just before its own.
        case predecessor
        /// The leader's znode (when it is not the predecessor).
        case leader
        /// Its own znode, while leading (deleted by someone else: no longer leading).
        case own
    }

    /// What woke the loop up.
    private enum Wake: Sendable {
        case watch(WatchTarget)
        case watchFailed
        case retry
        case trigger(ElectionSignal.Trigger)
        case cancelled
    }

    /// The outcome of one look at the children.
    private enum CheckResult {
        /// Something changed meanwhile: look again now.
        case recheck
        /// The role is reported; wait for one of these watches.
        case wait([(WatchTarget, ZooKeeperWatch)])
        /// The candidate resigned.
        case resigned
    }

    /// How long to wait before looking again after a connection loss or a timeout.
    static let retryDelay = Duration.milliseconds(200)

    /// Follows the session's events in a child task and the election in this one. Returns on
    /// resignation or cancellation; throws when the session ends.
    func runLoop() async throws {
        let events = self.client.sessionEvents()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in events {
                    self.handle(event)
                    self.signal.notify(.session(event))
                }
                self.signal.notify(.sessionEnded)
            }
            defer { group.cancelAll() }
            try await self.electionLoop()
        }
    }

    private func electionLoop() async throws {
        // The session events start with the current state: `.connected` makes the first check.
        var needsCheck = false
        var retry = false
        var watches: [(WatchTarget, ZooKeeperWatch)] = []
        while true {
            if Task.isCancelled { return }
            if needsCheck {
                needsCheck = false
                retry = false
                watches = []
                do {
                    switch try await self.check() {
                    case .recheck:
                        needsCheck = true
                        continue
                    case .wait(let newWatches):
                        watches = newWatches
                    case .resigned:
                        return
                    }
                } catch let error as ZooKeeperError where error.code == .connectionLoss || error.code == .operationTimeout {
                    retry = true
                } catch is CancellationError {
                    return
                }
            }
            switch await self.wait(for: watches, retry: retry) {
            case .watch(let target):
                if case .predecessor = target { self.countPredecessorWatchEvent() }
                needsCheck = true
            case .watchFailed, .retry:
                // A failed watch means the session ended: the check says so.
                needsCheck = true
            case .trigger(.session(.connected)), .trigger(.session(.reconnected)):
                needsCheck = true
            case .trigger(.session(.disconnected)):
                break  // Already reported unknown; the watches survive a reconnection.
            case .trigger(.session(.expired)), .trigger(.session(.closed)), .trigger(.sessionEnded):
                throw ZooKeeperError.sessionExpired("the session of the leader election on \(self.path) ended")
            case .trigger(.resign), .cancelled:
                return
            }
        }
    }

    /// Waits for the first of: a watch, the retry delay (if `retry`), a trigger.
    private func wait(for watches: [(WatchTarget, ZooKeeperWatch)], retry: Bool) async -> Wake {
        await withTaskGroup(of: Wake.self) { group in
            for (target, watch) in watches {
                group.addTask {
                    do {
                        _ = try await watch.event()
                        return .watch(target)
                    } catch is CancellationError {
                        return .cancelled
                    } catch {
                        return .watchFailed
                    }
                }
            }
            if retry {
                group.addTask {
                    do {
                        try await Task.sleep(for: Self.retryDelay)
                        return .retry
                    } catch {
                        return .cancelled
                    }
                }
            }
            group.addTask {
                guard let trigger = await self.signal.next() else { return .cancelled }
                return .trigger(trigger)
            }
            let first = await group.next() ?? .cancelled
            group.cancelAll()
            // A trigger taken while another task won must not be lost.
            for await other in group {
                if case .trigger(let trigger) = other { self.signal.requeue(trigger) }
            }
            return first
        }
    }

    /// Reads the children, creates the candidate's znode if it has none, reports the role and
    /// sets the watches.
    private func check() async throws -> CheckResult {
        let (generation, resigned) = self.startCheck()
        if resigned { return .resigned }
        var children: [String]
        do {
            children = try await self.client.getChildren(path: self.path)
        } catch let error as ZooKeeperError where error.code == .noNode {
            children = []
        }
        // Find this candidate's znode by its name before creating one: a create cut off by a
        // connection loss may have happened.
        let mine = Self.candidates(children.filter { $0.hasPrefix(self.prefix) })
        let own: String
        if let first = mine.first {
            own = first
            for extra in mine.dropFirst() {
                do {
                    try await self.client.delete(path: self.path + "/" + extra)
                } catch let error as ZooKeeperError where error.code == .noNode {}
            }
            children.removeAll { mine.dropFirst().contains($0) }
        } else {
            if self.isResigned { return .resigned }
            let created = try await self.client.create(
                path: self.path + "/" + self.prefix,
                data: self.payload,
                mode: .ephemeralSequential,
                createParents: true
            )
            own = String(created[created.index(after: created.lastIndex(of: "/")!)...])
            children.append(own)
        }
        let ownPath = self.path + "/" + own
        self.setOwnPath(ownPath)

        let candidates = Self.candidates(children)
        guard let index = candidates.firstIndex(of: own) else { return .recheck }
        if index == 0 {
            let (stat, watch) = try await self.client.existsAndWatch(path: ownPath)
            guard let stat else { return .recheck }
            self.publish(.leader(epoch: stat.czxid), generation: generation)
            return .wait([(.own, watch)])
        }

        let predecessor = try await self.client.existsAndWatch(path: self.path + "/" + candidates[index - 1])
        guard predecessor.stat != nil else { return .recheck }
        var watches: [(WatchTarget, ZooKeeperWatch)] = [(.predecessor, predecessor.watch)]
        let leaderPath = self.path + "/" + candidates[0]
        let leader: Leader
        do {
            if index == 1 {
                let (data, stat) = try await self.client.getData(path: leaderPath)
                leader = Leader(path: leaderPath, payload: data, epoch: stat.czxid)
            } else {
                let (data, stat, watch) = try await self.client.getDataAndWatch(path: leaderPath)
                leader = Leader(path: leaderPath, payload: data, epoch: stat.czxid)
                watches.append((.leader, watch))
            }
        } catch let error as ZooKeeperError where error.code == .noNode {
            return .recheck
        }
        self.publish(.follower(leader: leader), generation: generation)
        return .wait(watches)
    }
}
