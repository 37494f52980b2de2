# sam build runs these (BuildMethod: makefile).
# managed (default): one portable, framework-dependent build of the functions serves all three (the dotnet10
# runtime supplies .NET; the IL runs on arm64 as on x64).
# ORCHESTRATOR_BUILD=native-aot: the bootstrap executable, Native AOT for linux-x64 (net9.0: see README), for
# provided.al2023; deploy with FunctionBuild=native-aot so that the template's runtime and handler match.
ORCHESTRATOR_BUILD ?= managed

build-SubmitFunction build-StateChangeFunction build-ReconcileFunction:
ifeq ($(ORCHESTRATOR_BUILD),native-aot)
	dotnet publish src/TrainingOrchestrator.Bootstrap/TrainingOrchestrator.Bootstrap.csproj -c Release -f net9.0 -r linux-x64 -o "$(ARTIFACTS_DIR)"
	rm -f "$(ARTIFACTS_DIR)"/*.dbg "$(ARTIFACTS_DIR)"/*.pdb
else
	dotnet publish src/TrainingOrchestrator.Functions/TrainingOrchestrator.Functions.csproj -c Release -f net10.0 -o "$(ARTIFACTS_DIR)"
endif
