#!/usr/bin/env bash
# Writes docs/reliability.md from the fault suites at their full counts (CI runs the same tests at smaller ones):
# duplicates under faults, crashes, nothing lost (the outbox), reordering, bad input, security. A few minutes.
# Usage: bash bench/reliability.sh
set -euo pipefail
cd "$(dirname "$0")/.."
figures=bench/out/figures
rm -rf "$figures/reliability"
mkdir -p "$figures"
export ORCHESTRATOR_SUITE=full ORCHESTRATOR_FIGURES="$PWD/$figures"
dotnet test test/TrainingOrchestrator.Functions.Tests --filter "FullyQualifiedName~ReliabilityTests" >/dev/null
dotnet test test/TrainingOrchestrator.Stores.Tests --filter "FullyQualifiedName~ReorderingTests" >/dev/null
dotnet test test/TrainingOrchestrator.Core.Tests --filter "FullyQualifiedName~ErrorTextTests.Ten_thousand" >/dev/null
section() { cat "$figures/reliability/$1.md"; echo; }
{
  echo "# Reliability"
  echo
  echo "Produced by \`bash bench/reliability.sh\` on $(date -u +%Y-%m-%d) on this project's machine: the fault suites at their full"
  echo "counts. \`bash .ci/run\` runs the same tests at smaller counts (ORCHESTRATOR_SUITE unset): 200 requests for duplicates,"
  echo "1,000 bad messages, all SQLite reorderings with 2 duplication patterns per permutation (tuning: none), 40 sampled on DynamoDB."
  echo
  echo "## Duplicates under faults (ReliabilityTests.Requests_delivered_up_to_four_times_...)"
  echo
  section duplicates
  echo "## Crashes (ReliabilityTests.A_Submit_killed_around_the_Create_...)"
  echo
  echo "The Submit process is killed (an exception nothing catches) with a training and a tuning request, then recovered either"
  echo "by the message's redelivery or, with the message gone, by Reconcile two minutes later. A launch writes nothing after its"
  echo "Create, so \"between create and record\" is the same point as \"after the Create\"."
  echo
  echo "| crash | recovered by | jobs | record |"
  echo "|---|---|---|---|"
  section crashes
  echo "## Nothing lost: what a job's end owes (OutboxReliabilityTests)"
  echo
  echo "EventBridge and SQS are moto behind a proxy that refuses requests (AWS's InternalFailure, HTTP 500) or forwards them and"
  echo "loses the answer. The write that ends a job records what the end owes (announcement, follow-up); each send is followed by"
  echo "the write that clears it; what is not cleared is sent by EventBridge's retry of the event or by Reconcile's sweep."
  echo
  echo "| fault | jobs | delivered by | result |"
  echo "|---|---:|---|---|"
  section outbox
  echo "## Reconcile isolates each job (OutboxReliabilityTests.Two_hundred_unreadable_jobs_...)"
  echo
  section reconcile-isolation
  echo "## Reordering (Stores.Tests/ReorderingTests.cs)"
  echo
  echo "Event sequences built on the developer guide's sample events (cumulative secondary-status snapshots; a tuning job with"
  echo "one Completed and one Failed trial). Each order is delivered through the StateChange path into a fresh claim and compared,"
  echo "record by record (version aside), with in-order delivery."
  echo
  echo "| scenario | store | orders | events delivered | result |"
  echo "|---|---|---:|---:|---|"
  section reordering
  echo "## Bad input (ReliabilityTests.Bad_messages_are_each_Rejected_...)"
  echo
  section bad-input
  echo "## Nothing lost, nothing adopted: second round (SecondRoundReliabilityTests, ErrorTextTests)"
  echo
  echo "A long life on the largest claim, squatters, stops racing Creates, refusals that pass by themselves, secrets in errors."
  echo "moto for DynamoDB, EventBridge and SQS; SageMaker on loopback (a stateful stand-in speaking its wire format)."
  echo
  echo "| attack | result |"
  echo "|---|---|"
  section second-round
  echo "## Capacity: limits, the queue, fair share (CapacityReliabilityTests, QueueTests)"
  echo
  echo "Three teams send their requests in SQS batches of 10 against the account's quota of 8 x ml.m5.xlarge and nlp's limit"
  echo "of 3; jobs end oldest first, each end's StateChange admitting the next. An observer inside the SageMaker stand-in"
  echo "(not the orchestrator's ledger) counts instances in use at every Create and every end. The second row refuses 30%"
  echo "of Creates with SageMaker's ResourceLimitExceeded; Reconcile, an hour on, takes what waits out its backoff."
  echo
  echo "| scenario | result |"
  echo "|---|---|"
  section capacity
  echo "## Security (ReliabilityTests.No_policy_grants_..., and the bad-input run's log checks)"
  echo
  section security
} > docs/reliability.md
echo "wrote docs/reliability.md"
