"""What every part of Herald runs within, whatever it does:

    config.py   settings read from the environment, once per process
    clock.py    the one clock every timestamp comes from (tests move it)
    budget.py   how long the job at hand may still take (its invocation's remaining time)

Stdlib only; nothing here imports the rest of Herald.
"""
