# sam build runs these (BuildMethod: makefile), with ARTIFACTS_DIR set; so can you.
# Both kinds of build make an artifact that Lambda's dotnet10 runtime starts for `Handler: bootstrap` (its
# bootstrap.net8.sh): `dotnet exec bootstrap.dll` when the managed assembly is there, else the `bootstrap` executable.
# The template is the same for both, so a build can never disagree with the deployment.
#   managed (default): the bootstrap assembly with its own .NET runtime (self-contained, trimmed), ReadyToRun-compiled
#     for linux-x64 as one composite image; the dotnet10 runtime's `dotnet exec bootstrap.dll` runs it on that runtime.
#     (The LTTng trace provider is dropped: Lambda has no LTTng, and the runtime would try to load it at every start.)
#   native-aot: the bootstrap as one Native AOT executable for linux-x64 (net10.0); needs clang.
# The kind is read from the tracked file function-build.txt, not from the environment: `sam build --cached`
# keys its cache on the source files, so a kind chosen by a variable could be served from a cache of the other.
FUNCTION_BUILD := $(strip $(file < function-build.txt))
PROJECT := src/TrainingOrchestrator.Bootstrap/TrainingOrchestrator.Bootstrap.csproj

ifneq ($(origin ORCHESTRATOR_BUILD),undefined)
$(error ORCHESTRATOR_BUILD is no longer read: write managed or native-aot into function-build.txt)
endif

build-SubmitFunction build-StateChangeFunction build-ReconcileFunction:
ifeq ($(ARTIFACTS_DIR),)
	$(error ARTIFACTS_DIR is not set: sam build sets it; by hand, make $@ ARTIFACTS_DIR=DIR)
endif
ifeq ($(FUNCTION_BUILD),native-aot)
	dotnet publish $(PROJECT) -c Release -r linux-x64 -p:BootstrapNativeAot=true -o "$(ARTIFACTS_DIR)"
	rm -f "$(ARTIFACTS_DIR)"/*.dbg "$(ARTIFACTS_DIR)"/*.pdb "$(ARTIFACTS_DIR)"/bootstrap.dll
else ifeq ($(FUNCTION_BUILD),managed)
	dotnet publish $(PROJECT) -c Release -r linux-x64 -p:BootstrapReadyToRun=true -o "$(ARTIFACTS_DIR)"
	rm -f "$(ARTIFACTS_DIR)"/*.pdb "$(ARTIFACTS_DIR)"/libcoreclrtraceptprovider.so
else
	$(error function-build.txt must hold managed or native-aot, not '$(FUNCTION_BUILD)')
endif
