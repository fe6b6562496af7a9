import Spindle
print("fixture")
