from services.executor.app import run

run()
